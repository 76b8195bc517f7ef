"""Never more billed calls than JUSTONEAPI_MAX_BILLED_CALLS.

A call in flight may still be billed, so a request is sent only while the
calls already billed plus those in flight stay under the budget; otherwise
it waits for an answer. Once the budget is spent the crawl closes with
``justoneapi_budget_exhausted``, so a scheduled run can never drain an account.

With ``REDIS_URL`` and ``XHS_CRAWL_ID`` set, the budget is the shared crawl's,
counted for all its workers in Redis:
:class:`~xhs_spider.middlewares.shared_budget.SharedBillingBudgetMiddleware`
keeps it, and this one stands aside.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from xhs_spider.api.client import endpoint_of
from xhs_spider.api.envelope import POSSIBLY_BILLED_ERRORS, is_billed
from xhs_spider.config.declarations import CRAWL_ID, MAX_BILLED_CALLS, REDIS_URL
from xhs_spider.outcome.extension import close_crawl, kept_for_resume
from xhs_spider.outcome.reasons import BUDGET_EXHAUSTED
from xhs_spider.middlewares.business_codes import BusinessCodeMiddleware

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def budget_is_shared(settings: BaseSettings) -> bool:
    """Whether the workers of one crawl share the budget through Redis."""
    return bool(REDIS_URL.get(settings) and CRAWL_ID.get(settings))


def api_stopped(crawler: Crawler) -> bool:
    """Whether the API stopped the crawl (quota, balance) while a request waited."""
    if not crawler.crawling:  # built alone, as in unit tests
        return False
    codes = crawler.get_downloader_middleware(BusinessCodeMiddleware)
    return codes is not None and codes.stop_reason is not None


def stop_spent(crawler: Crawler, budget: int) -> None:
    logger.warning(
        "Spent the budget of %(budget)d billed calls (JUSTONEAPI_MAX_BILLED_CALLS); "
        "stopping the crawl.",
        {"budget": budget},
    )
    close_crawl(crawler, BUDGET_EXHAUSTED)


class BillingBudgetMiddleware:
    def __init__(self, crawler: Crawler):
        self.budget = MAX_BILLED_CALLS.get(crawler.settings)
        if not self.budget:
            raise NotConfigured  # unlimited
        if budget_is_shared(crawler.settings):
            raise NotConfigured  # shared through Redis: SharedBillingBudgetMiddleware keeps it
        self.crawler = crawler
        self.billed = 0
        self.spent = False
        self.in_flight: set[Request] = set()
        self._waiting: list[Deferred[None]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> Request | None:
        if endpoint_of(request) is None:
            return None
        while self.in_flight and self.billed + len(self.in_flight) >= self.budget:
            answered: Deferred[None] = Deferred()
            self._waiting.append(answered)
            await maybe_deferred_to_future(answered)
        if self.billed >= self.budget or api_stopped(self.crawler):
            if self.billed >= self.budget:
                self._exhausted()
            return kept_for_resume(request)
        self.in_flight.add(request)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if request in self.in_flight and is_billed(response):
            self.billed += 1
            if self.billed >= self.budget:
                self._exhausted()  # this answer is paid for: it still goes on
        self._answered(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if request in self.in_flight and isinstance(exception, POSSIBLY_BILLED_ERRORS):
            # Unknown is counted as spent: the budget errs on the user's side.
            self.billed += 1
            if self.billed >= self.budget:
                self._exhausted()
        self._answered(request)

    def _answered(self, request: Request) -> None:
        if request not in self.in_flight:
            return
        self.in_flight.discard(request)
        waiting, self._waiting = self._waiting, []
        for answered in waiting:
            answered.callback(None)

    def _exhausted(self) -> None:
        if self.spent:
            return
        self.spent = True
        stop_spent(self.crawler, self.budget)
