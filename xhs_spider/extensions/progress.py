"""A periodic progress line in place of Scrapy's page counts (LogStats).

Notes per minute, billed calls so far and the current rate-limit backoff
say more about a paid crawl than pages and items do.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from xhs_spider import stats as keys
from xhs_spider.config.declarations import PROGRESS_INTERVAL

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)


class ProgressLog:
    def __init__(self, crawler: Crawler):
        self.interval = PROGRESS_INTERVAL.get(crawler.settings)
        if not self.interval:
            raise NotConfigured  # turned off
        self.stats = crawler.stats
        self._last_notes = 0
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
        rate = (notes - self._last_notes) * 60.0 / self.interval
        self._last_notes = notes
        logger.info(
            "Progress: %(notes)d notes (%(rate).1f/min), %(appearances)d appearances, "
            "%(billed)d billed calls, %(retries)d retries, paced at %(pace)s",
            {
                "notes": notes,
                "rate": rate,
                "appearances": get(keys.ITEMS.format(item_type="FeedAppearanceItem"), 0),
                "billed": get(keys.BILLED, 0),
                "retries": get(keys.RETRY_COUNT, 0),
                "pace": f"{get(keys.RATE_LIMIT_RATE)}/s" if get(keys.RATE_LIMIT_RATE) else "no limit",
            },
        )
