"""Paces calls to the API: the plan's known cap, or the one 302s reveal.

Every API request waits here for its place (:class:`ApiPace`) before it
leaves; every 302 answer tells the pace the crawl went over the API's rate.
A waiting request holds one of ``CONCURRENT_REQUESTS``, so the crawl keeps
at most that many calls waiting or in flight.

The API's limits are per token and per plan. When the user knows the plan's
cap (``JUSTONEAPI_MAX_RPS``), calls are paced to it smoothly: each call gets
the next free instant on a grid of ``1/cap`` seconds (the generic cell rate
algorithm, a token bucket of one), so the crawl holds the cap exactly while
concurrency covers the latency. When nobody knows the cap, code 302 says the
crawl went over it: the rate then drops once per *congestion event* (the 302s
of the calls already in flight belong to the same event), by a factor, and
grows back by a fixed step per second while no 302 comes, as TCP's additive
increase and multiplicative decrease do. The crawl so circles just under the
API's rate instead of crawling at a tenth of it for minutes.

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
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.utils.asyncio import sleep

from xhs_spider import stats as keys
from xhs_spider.api.client import endpoint_of
from xhs_spider.api.codes import RATE_LIMIT_EXCEEDED
from xhs_spider.api.envelope import InvalidBody, parse_envelope
from xhs_spider.config.declarations import (
    MAX_RPS,
    RATE_BACKOFF,
    RATE_RECOVERY,
    REDIS_URL,
    TOKEN,
    shared_crawl,
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

#: 302s within this long after a rate decrease answer calls sent before it.
CONGESTION_HOLD = 1.0
#: The window over which the rate being sent is measured, for the first 302.
SENDING_WINDOW = 2.0
#: Never slower than this many calls per second.
FLOOR = 0.2
#: Places on the shared grid a call takes again at most when it woke late.
LATE_RETRIES = 5
#: Seconds between looks at a download slot that has calls queued.
SLOT_POLL = 0.01


class ApiPace:
    """This process's own pace: the known cap's grid, and the rate 302s taught.

    In a shared crawl it is given no cap: the grid shared in Redis
    (:class:`~xhs_spider.distributed.pace.SharedPace`) keeps it, and this
    pace only backs off.
    """

    def __init__(
        self, cap: float | None, *, backoff: float, recovery: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        if cap is not None and cap <= 0:
            raise ValueError("cap must be above 0")
        self.cap = cap
        self.backoff = backoff
        self.recovery = recovery
        self.clock = clock
        #: The rate 302s taught, None until the first one (or once recovered past the cap).
        self.learned: float | None = None
        self.events = 0
        self._next_free = 0.0
        self._hold_until = 0.0
        self._grown_at = 0.0
        self._sent: deque[float] = deque()

    @property
    def rate(self) -> float | None:
        """Calls per second allowed now; None: as fast as the crawl goes."""
        self._recover(self.clock())
        if self.learned is None:
            return self.cap
        return self.learned if self.cap is None else min(self.cap, self.learned)

    def reserve(self) -> float:
        """Take the next call's place; the seconds to wait before sending it."""
        rate = self.rate
        now = self.clock()
        self._note_sent(now)
        if rate is None:
            return 0.0
        start = max(self._next_free, now)
        self._next_free = start + 1.0 / rate
        return start - now

    def congested(self) -> bool:
        """A 302 came back; whether it started a new congestion event."""
        now = self.clock()
        if now < self._hold_until:
            return False
        sending = self.rate or self._sending_rate(now)
        self.learned = max(FLOOR, sending * self.backoff)
        self.events += 1
        self._hold_until = self._grown_at = now + CONGESTION_HOLD
        return True

    def _recover(self, now: float) -> None:
        if self.learned is None or now <= self._grown_at:
            return
        self.learned += self.recovery * (now - self._grown_at)
        self._grown_at = now
        if self.cap is not None and self.learned >= self.cap:
            self.learned = None

    def _note_sent(self, now: float) -> None:
        self._sent.append(now)
        while self._sent and self._sent[0] < now - SENDING_WINDOW:
            self._sent.popleft()

    def _sending_rate(self, now: float) -> float:
        if len(self._sent) < 2:
            return 1.0 / CONGESTION_HOLD
        return len(self._sent) / max(now - self._sent[0], 1e-3)


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
