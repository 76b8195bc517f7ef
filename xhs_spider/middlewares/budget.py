"""Never more billed calls than JUSTONEAPI_MAX_BILLED_CALLS, alone or across workers.

A call in flight may still be billed, so a request is sent only once it
reserved one call of the budget in the *ledger*: the calls billed plus those
held (in flight) stay under the budget; otherwise it waits for an answer, and
asks again. An answer settles its reservation: billed, or given back when the
answer proves the call free (an unbilled code, Scrapy's cache, a connection
refused before the call left); a timeout counts as billed: the budget errs on
the user's side. Once the budget is spent the crawl closes with
``justoneapi_budget_exhausted``, so a scheduled run can never drain an account.

The ledger is this process's own (:class:`LocalLedger`), or, in a shared
crawl (:func:`~xhs_spider.config.declarations.shared_crawl`), the crawl's,
kept in Redis for all its workers
(:class:`~xhs_spider.distributed.ledger.SharedLedger`, where a gone worker's
held calls count as billed); once Redis is gone, the crawl ends
``xhs_redis_unreachable`` and no request leaves unreserved.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from xhs_spider.api.client import endpoint_of
from xhs_spider.api.envelope import POSSIBLY_BILLED_ERRORS, billed_unless_proved_free
from xhs_spider.config.declarations import MAX_BILLED_CALLS, shared_crawl
from xhs_spider.distributed.ledger import Reservation, SharedLedger
from xhs_spider.middlewares.business_codes import BusinessCodeMiddleware
from xhs_spider.outcome.extension import close_crawl, kept_for_resume
from xhs_spider.outcome.reasons import BUDGET_EXHAUSTED

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class Ledger(Protocol):
    """Where the budget's calls billed and held are counted."""

    async def reserve(self) -> Reservation | None:
        """Hold one call if billed plus held calls leave one; ``None``: the ledger is gone."""

    async def settle(self, billed: bool) -> int | None:
        """Give one held call back, billed or not; the calls billed (``None``: unknown)."""

    async def wait(self) -> None:
        """Until a refused reservation may be granted."""


class LocalLedger:
    """The budget of a crawl alone, counted in this process."""

    def __init__(self, budget: int):
        self.budget = budget
        self.billed = 0
        self.held = 0
        self._waiting: list[Deferred[None]] = []

    async def reserve(self) -> Reservation:
        if self.billed + self.held >= self.budget:
            return Reservation(granted=False, billed=self.billed)
        self.held += 1
        return Reservation(granted=True, billed=self.billed)

    async def settle(self, billed: bool) -> int:
        self.held -= 1
        if billed:
            self.billed += 1
        waiting, self._waiting = self._waiting, []
        for answered in waiting:
            answered.callback(None)
        return self.billed

    async def wait(self) -> None:
        """Until the next answer (a call is held whenever a reservation is refused)."""
        answered: Deferred[None] = Deferred()
        self._waiting.append(answered)
        await maybe_deferred_to_future(answered)


def api_stopped(crawler: Crawler) -> bool:
    """Whether the API stopped the crawl (quota, balance) while a request waited."""
    if not crawler.crawling:  # built alone, as in unit tests
        return False
    codes = crawler.get_downloader_middleware(BusinessCodeMiddleware)
    return codes is not None and codes.stop_reason is not None


class BillingBudgetMiddleware:
    def __init__(self, crawler: Crawler):
        self.budget = MAX_BILLED_CALLS.get(crawler.settings)
        if not self.budget:
            raise NotConfigured  # unlimited
        self.crawler = crawler
        crawl_id = shared_crawl(crawler.settings)
        self.ledger: Ledger = (LocalLedger(self.budget) if crawl_id is None
                               else SharedLedger.for_crawl(crawler, crawl_id, self.budget))
        self.spent = False
        self.in_flight: set[Request] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> Request | None:
        if endpoint_of(request) is None:
            return None
        while not (self.spent or api_stopped(self.crawler)):
            reservation = await self.ledger.reserve()
            if reservation is None:
                break  # Redis is gone: nothing leaves unreserved
            if reservation.granted:
                self.in_flight.add(request)
                return None
            if reservation.billed >= self.budget:
                self._exhausted()
                break
            await self.ledger.wait()  # calls held may still prove free
        return kept_for_resume(request)

    async def process_response(self, request: Request, response: Response) -> Response:
        if request in self.in_flight:
            await self._settle(request, billed_unless_proved_free(response))
        return response

    async def process_exception(self, request: Request, exception: Exception) -> None:
        if request in self.in_flight:
            # Unknown is counted as spent: the budget errs on the user's side.
            await self._settle(request, isinstance(exception, POSSIBLY_BILLED_ERRORS))

    async def _settle(self, request: Request, billed: bool) -> None:
        self.in_flight.discard(request)
        spent = await self.ledger.settle(billed)
        if spent is not None and spent >= self.budget:
            self._exhausted()  # this answer is paid for: it still goes on

    def _exhausted(self) -> None:
        if self.spent:
            return
        self.spent = True
        logger.warning(
            "Spent the budget of %(budget)d billed calls (JUSTONEAPI_MAX_BILLED_CALLS); "
            "stopping the crawl.",
            {"budget": self.budget},
        )
        close_crawl(self.crawler, BUDGET_EXHAUSTED)
