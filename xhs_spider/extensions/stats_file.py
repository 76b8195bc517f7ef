"""Writes the crawl's final stats as JSON, for schedulers and monitoring."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread

from xhs_spider.config.declarations import STATS_FILE
from xhs_spider.pipelines.store import store_settled

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class StatsFile:
    def __init__(self, crawler: Crawler):
        path = STATS_FILE.get(crawler.settings)
        if not path:
            raise NotConfigured  # off unless asked for
        self.path = Path(path)
        self.crawler = crawler
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def _spider_closed(self) -> None:
        # After the store's last write (which may spill and change the finish
        # reason); CoreStats, a synchronous handler, has already run.
        await store_settled(self.crawler)
        stats = dict(self.crawler.stats.get_stats())
        await run_in_thread(self._write, stats)
        logger.info("Stats written to %(path)s", {"path": str(self.path)})

    def _write(self, stats: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(
            json.dumps(stats, default=str, ensure_ascii=False, indent=1, sort_keys=True),
            encoding="utf-8",
        )
