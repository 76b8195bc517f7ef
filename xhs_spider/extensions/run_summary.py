"""Logs one readable block at the end of every run: what the money bought."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Spider, signals

from xhs_spider.summary import format_summary, run_summary

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class RunSummary:
    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.stats.get_stats()
        summary = run_summary(stats, reason, getattr(spider, "run_arguments", {}))
        run_id = stats.get("justoneapi/store/run_id", "")
        logger.info("%(summary)s", {"summary": format_summary(run_id, summary)})
