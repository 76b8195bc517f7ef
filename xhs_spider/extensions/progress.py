"""A periodic progress line in place of Scrapy's page counts (LogStats).

Notes per minute, billed calls so far and the current rate-limit backoff
say more about a paid crawl than pages and items do; when the crawl is held
back, the line says by what since the last one: the API's rate limit or
retries (read from the stats those middlewares keep).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from xhs_spider import stats as keys
from xhs_spider.config.declarations import PROGRESS_INTERVAL
from xhs_spider.run import readable

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class ProgressLog:
    def __init__(self, crawler: Crawler):
        self.interval = PROGRESS_INTERVAL.get(crawler.settings)
        if not self.interval:
            raise NotConfigured  # turned off
        self.stats = crawler.stats
        self._last_notes = 0
        self._last_stats: dict[str, Any] = {}
        self._task: AsyncioLoopingCall | LoopingCall | None = None
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _spider_opened(self) -> None:
        task = self._task = create_looping_call(self.log_progress)
        task.start(self.interval, now=False)

    def _spider_closed(self) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()

    def log_progress(self) -> None:
        get = self.stats.get_value
        notes = get(keys.ITEMS.format(item_type="NoteItem"), 0)
        pace = get(keys.RATE_LIMIT_RATE)
        logger.info(
            "Progress: %(notes)d notes (%(rate)s), %(appearances)d appearances, "
            "%(billed)d billed calls, %(retries)d retries, paced at %(pace)s%(waiting)s",
            {
                "notes": notes,
                "rate": readable.rate((notes - self._last_notes) * 60.0 / self.interval, "min"),
                "appearances": get(keys.ITEMS.format(item_type="FeedAppearanceItem"), 0),
                "billed": get(keys.BILLED, 0),
                "retries": get(keys.RETRY_COUNT, 0),
                "pace": readable.rate(pace) if pace else "no limit",
                "waiting": "".join(f"; {why}" for why in self._waiting_on()),
            },
        )
        self._last_notes = notes

    def _waiting_on(self) -> list[str]:
        """What held the crawl back since the last line: the API's rate limit
        (302 answers, calls held for their turn) and retries, by reason."""
        now = self.stats.get_stats()
        last, self._last_stats = self._last_stats, now.copy()
        since = {key: value - last.get(key, 0) for key, value in now.items()
                 if isinstance(value, int) and value != last.get(key, 0)}
        waiting = []
        limited, held_ms = since.get(keys.RATE_LIMITED, 0), since.get(keys.RATE_LIMIT_WAITED_MS, 0)
        if limited or held_ms:
            parts = [f"{limited} calls answered 302"] if limited else []
            parts += [f"calls held {readable.duration(held_ms / 1000)} for their turn"] if held_ms else []
            waiting.append(f"waiting on the API's rate limit ({', '.join(parts)})")
        reasons = {reason: count for reason, count in keys.under(keys.RETRY_REASON, since).items()
                   if reason != "rate_limited"}
        if reasons:
            counts = ", ".join(f"{reason}×{count}" for reason, count in reasons.items())
            waiting.append(f"waiting on retries ({counts})")
        return waiting
