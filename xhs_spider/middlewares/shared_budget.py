"""Never more billed calls than JUSTONEAPI_MAX_BILLED_CALLS, across all workers.

With ``REDIS_URL`` and ``XHS_CRAWL_ID`` set, every worker of the crawl draws
on one budget kept in Redis (:mod:`xhs_spider.api.shared_budget`): a request
is sent only once it reserved one call of the budget, and its answer settles
the reservation: given back only if the answer proves the call free (an
unbilled code, Scrapy's cache, a connection refused before the call left),
else billed. Calls still unanswered when the worker closes count as billed,
and so do a killed worker's (:mod:`xhs_spider.api.shared_budget`). While the calls held by the workers
could still spend what is left, a request waits and asks again. Once the
budget is spent the crawl closes with ``justoneapi_budget_exhausted``, as it
does alone; once Redis is gone, with ``xhs_redis_unreachable``, and no
request leaves unreserved.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import sleep

from xhs_spider.api.client import endpoint_of
from xhs_spider.api.codes import BILLED_CODES
from xhs_spider.api.envelope import POSSIBLY_BILLED_ERRORS, InvalidBody, parse_envelope
from xhs_spider.api.redis_link import REDIS_ERRORS, open_redis, redis_lost
from xhs_spider.api.shared_budget import HEARTBEAT_INTERVAL, SharedBudget
from xhs_spider.config.declarations import CRAWL_ID, MAX_BILLED_CALLS, REDIS_URL
from xhs_spider.distributed.worker import shared_worker
from xhs_spider.middlewares.budget import api_stopped, budget_is_shared, stop_spent
from xhs_spider.outcome.extension import kept_for_resume

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: Seconds between two asks while the held calls could spend the budget.
HELD_RETRY_DELAY = 0.1


class SharedBillingBudgetMiddleware:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        budget = MAX_BILLED_CALLS.get(settings)
        if not budget or not budget_is_shared(settings):
            raise NotConfigured  # no budget, or each worker keeps its own (budget.py)
        self.crawler = crawler
        self.budget = budget
        worker = shared_worker(crawler)
        self.shared = SharedBudget(
            open_redis(str(REDIS_URL.get(settings))), str(CRAWL_ID.get(settings)), budget,
            worker=None if worker is None else worker.worker_id,
        )
        self.spent = False
        self.redis_gone = False
        self.in_flight: set[Request] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._joined: asyncio.Task[None] | None = None
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> Request | None:
        if endpoint_of(request) is None:
            return None
        while not (self.spent or self.redis_gone or api_stopped(self.crawler)):
            try:
                await self._session()
                reservation = await self.shared.reserve()
            except REDIS_ERRORS as error:
                self._redis_lost(error, "reserving a call of the budget")
                break
            if reservation.granted:
                self.in_flight.add(request)
                return None
            if reservation.billed >= self.budget:
                self._exhausted()
                break
            await sleep(HELD_RETRY_DELAY)  # calls held here or elsewhere may still be free
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
        try:
            spent = await self.shared.settle(billed)
        except REDIS_ERRORS as error:
            self._redis_lost(error, "counting a billed call")
            return
        if spent >= self.budget:
            self._exhausted()  # this answer is paid for: it still goes on

    def _exhausted(self) -> None:
        if not self.spent:
            self.spent = True
            stop_spent(self.crawler, self.budget)

    def _redis_lost(self, error: BaseException, doing: str) -> None:
        if not self.redis_gone:
            self.redis_gone = True
            redis_lost(self.crawler, error, doing)

    async def _session(self) -> None:
        """Joins the crawl's budget session (or starts one), once, before the first reservation."""
        if self._joined is None:
            self._joined = asyncio.ensure_future(self._join())
        await self._joined

    async def _join(self) -> None:
        if await self.shared.join():
            logger.info("A new budget session of the shared crawl: %(budget)d billed calls",
                        {"budget": self.budget})

    def _opened(self) -> None:
        self._heartbeat = asyncio.ensure_future(self._keep_alive())

    async def _keep_alive(self) -> None:
        while not self.redis_gone:
            try:
                await self._session()
                await self.shared.heartbeat()
            except REDIS_ERRORS as error:
                self._redis_lost(error, "keeping this worker's reservations")
                return
            await sleep(HEARTBEAT_INTERVAL)

    async def _closed(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        try:
            unanswered = await self.shared.close()
        except REDIS_ERRORS:
            logger.warning("Could not count this worker's unanswered calls against the shared "
                           "budget: Redis is gone")
            return
        if unanswered:
            logger.info("%(count)d calls left unanswered count as billed in the shared budget.",
                        {"count": unanswered})


def billed_unless_proved_free(response: Response) -> bool:
    """Whether *response*'s call counts as billed: unless its body is the API's
    envelope with an unbilled code, or Scrapy's cache answered. A body that is
    not the envelope (a proxy's error page, a cut-off body) proves nothing: the
    call may have reached the API and been billed."""
    if "cached" in response.flags:
        return False
    try:
        return parse_envelope(response).code in BILLED_CODES
    except InvalidBody:
        return True
