"""Paces calls to the API: the plan's known cap, or the one 302s reveal.

Every API request waits here for its place (see :mod:`xhs_spider.api.pacing`)
before it leaves; every 302 answer tells the pace the crawl went over the
API's rate. A waiting request holds one of ``CONCURRENT_REQUESTS``, so the
crawl keeps at most that many calls waiting or in flight.

The API answers 302 with HTTP 200 and a tiny body, which AutoThrottle reads
as a fast success: that is why 302s are handled here, not by the slot delay.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.utils.asyncio import sleep

from xhs_spider import stats as keys
from xhs_spider.api.client import endpoint_of
from xhs_spider.api.codes import RATE_LIMITED
from xhs_spider.api.envelope import InvalidBody, parse_envelope
from xhs_spider.api.pacing import ApiPace
from xhs_spider.config.declarations import MAX_RPS, RATE_BACKOFF, RATE_RECOVERY

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class RateLimitMiddleware:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.stats = crawler.stats
        self.pace = ApiPace(
            MAX_RPS.get(settings) or None,
            backoff=RATE_BACKOFF.get(settings), recovery=RATE_RECOVERY.get(settings),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if endpoint_of(request) is None:
            return
        wait = self.pace.reserve()
        if wait > 0:
            self.stats.inc_value(keys.RATE_LIMIT_WAITED_MS, round(wait * 1000))
            await sleep(wait)

    def process_response(self, request: Request, response: Response) -> Response:
        if endpoint_of(request) is None:
            return response
        try:
            code = parse_envelope(response).code
        except InvalidBody:
            return response
        if code == RATE_LIMITED and self.pace.congested():
            rate = self.pace.rate or 0.0
            self.stats.inc_value(keys.RATE_LIMIT_EVENTS)
            self.stats.set_value(keys.RATE_LIMIT_RATE, round(rate, 2))
            self.stats.min_value(keys.RATE_LIMIT_RATE_MIN, round(rate, 2))
            logger.info(
                "The API answered 302 (rate limited): pacing calls at %(rate).1f/s, "
                "growing back by %(step).1f/s each second without a 302.",
                {"rate": rate, "step": self.pace.recovery},
            )
        return response
