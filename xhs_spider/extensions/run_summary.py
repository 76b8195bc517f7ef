"""Logs one readable block at the end of every run: what the money bought."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals

from xhs_spider.pipelines.store import store_settled
from xhs_spider.summary import format_summary, run_summary

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class RunSummary:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        crawler.signals.connect(self._count_item, signal=signals.item_scraped)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _count_item(self, item: Any) -> None:
        self.stats.inc_value(f"justoneapi/items/{type(item).__name__}")

    async def _spider_closed(self, reason: str) -> None:
        # The store's last write may spill, and so change the finish reason.
        await store_settled(self.crawler)
        stats = self.stats.get_stats()
        reason = stats.get("finish_reason", reason)
        arguments = getattr(self.crawler.spider, "run_arguments", {})
        summary = run_summary(stats, reason, arguments)
        run_id = stats.get("justoneapi/store/run_id", "")
        logger.info("%(summary)s", {"summary": format_summary(run_id, summary)})
