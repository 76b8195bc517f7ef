"""Paces calls to the API: the plan's known cap, or the one 302s reveal.

Every API request waits here for its place (see :mod:`xhs_spider.api.pacing`)
before it leaves; every 302 answer tells the pace the crawl went over the
API's rate. A waiting request holds one of ``CONCURRENT_REQUESTS``, so the
crawl keeps at most that many calls waiting or in flight.

In a shared crawl (:func:`~xhs_spider.config.declarations.shared_crawl`),
the cap is kept for every process using the token
(:mod:`xhs_spider.distributed.pace`): a call waits for its place on the
shared grid; the 302 back-off stays each worker's own, measured on its own
sending rate, and paces it on top. Each worker that sees 302s cuts its own
rate, so the total falls by the same factor, as TCP flows sharing a link do,
without a round trip to Redis per 302. Redis gone: the crawl ends
``xhs_redis_unreachable``; a call without a place on the grid is never sent.

The API answers 302 with HTTP 200 and a tiny body, which AutoThrottle reads
as a fast success: that is why 302s are handled here, not by the slot delay.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.utils.asyncio import sleep

from xhs_spider import stats as keys
from xhs_spider.api.client import endpoint_of
from xhs_spider.api.codes import RATE_LIMIT_EXCEEDED
from xhs_spider.api.envelope import InvalidBody, parse_envelope
from xhs_spider.api.pacing import ApiPace
from xhs_spider.config.declarations import (
    MAX_RPS, RATE_BACKOFF, RATE_RECOVERY, REDIS_URL, TOKEN, shared_crawl,
)
from xhs_spider.distributed.connection import REDIS_ERRORS, open_redis, redis_lost
from xhs_spider.distributed.pace import SharedPace
from xhs_spider.outcome.extension import kept_for_resume

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: Places on the shared grid a call takes again at most when it woke late.
LATE_RETRIES = 5
#: Seconds between looks at a download slot that has calls queued.
SLOT_POLL = 0.01


class RateLimitMiddleware:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        cap, token = MAX_RPS.get(settings) or None, TOKEN.get(settings)
        self.shared: SharedPace | None = None
        self.redis_gone = False
        self._one_place_at_a_time = asyncio.Lock()
        if cap and token and shared_crawl(settings) is not None:
            self.shared = SharedPace(open_redis(str(REDIS_URL.get(settings))), token, cap)
            crawler.signals.connect(self._close_redis, signal=signals.spider_closed)
            cap = None  # the shared grid keeps it; the local pace only backs off
        self.pace = ApiPace(
            cap, backoff=RATE_BACKOFF.get(settings), recovery=RATE_RECOVERY.get(settings),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> Request | None:
        if endpoint_of(request) is None:
            return None
        await self._wait(self.pace.reserve())
        if self.shared is None:
            return None
        if self.redis_gone:
            return kept_for_resume(request)
        try:
            await self._take_shared_place(request)
        except REDIS_ERRORS as error:
            self.redis_gone = True
            redis_lost(self.crawler, error, "pacing a call")
            return kept_for_resume(request)
        return None

    async def _take_shared_place(self, request: Request) -> None:
        """Wait for a place on the shared grid, one call of this worker at a time.

        A place is taken only once the download slot can send the call at
        once: a call that passed its place and then queued behind the slot's
        delay (AutoThrottle starts at 0.5 s) would leave with the others
        queued there, in a burst, when the delay shrinks. A call woken more
        than a place late (the worker's loop was busy) gives its place up and
        takes the next free one, for the same reason.
        """
        assert self.shared is not None
        async with self._one_place_at_a_time:
            for _ in range(LATE_RETRIES):
                await self._until_slot_free(request)
                wait = await self.shared.reserve()
                due = time.monotonic() + wait
                await self._wait(wait)
                if time.monotonic() - due <= self.shared.interval:
                    return
                self.stats.inc_value(keys.RATE_LIMIT_SHARED_LATE)

    async def _until_slot_free(self, request: Request) -> None:
        downloader = self.crawler.engine.downloader if self.crawler.crawling else None
        while downloader is not None:
            slot = downloader.slots.get(downloader.get_slot_key(request))
            if slot is None:
                return
            busy = bool(slot.queue) or slot.free_transfer_slots() <= 0
            free_in = slot.lastseen + slot.delay - time.monotonic()
            if not busy and free_in <= 0:
                return
            await self._wait(max(free_in, SLOT_POLL))

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.inc_value(keys.RATE_LIMIT_WAITED_MS, round(seconds * 1000))
            await sleep(seconds)

    async def _close_redis(self) -> None:
        if self.shared is not None:
            await self.shared.close()

    def process_response(self, request: Request, response: Response) -> Response:
        if endpoint_of(request) is None:
            return response
        try:
            code = parse_envelope(response).code
        except InvalidBody:
            return response
        if code == RATE_LIMIT_EXCEEDED and self.pace.congested():
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
