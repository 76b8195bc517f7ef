"""Writes the crawl's final stats as JSON, for schedulers and monitoring."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class StatsFile:
    def __init__(self, crawler: Crawler):
        path = crawler.settings.get("XHS_STATS_FILE")
        if not path:
            raise NotConfigured  # off unless asked for
        self.path = Path(path)
        self.crawler = crawler
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _spider_opened(self) -> None:
        # Connected now, after CoreStats and the item pipelines, so that
        # finish_reason, elapsed time and the store's last word are all in.
        self.crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    async def _spider_closed(self) -> None:
        stats = dict(self.crawler.stats.get_stats())
        await run_in_thread(self._write, stats)
        logger.info("Stats written to %(path)s", {"path": str(self.path)})

    def _write(self, stats: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(
            json.dumps(stats, default=str, ensure_ascii=False, indent=1, sort_keys=True),
            encoding="utf-8",
        )
