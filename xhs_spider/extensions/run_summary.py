"""Logs one readable block at the end of every run: what the money bought."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals

from xhs_spider.outcome.extension import outcome_of
from xhs_spider.outcome.summary import format_summary
from xhs_spider.pipelines.store import store_settled
from xhs_spider.stats import STORE_RUN_ID

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class RunSummary:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def _spider_closed(self, reason: str) -> None:
        # After the store's last write, so the summary follows the run record.
        await store_settled(self.crawler)
        summary = outcome_of(self.crawler).conclude(reason)
        run_id = self.crawler.stats.get_value(STORE_RUN_ID, "")
        logger.info("%(summary)s", {"summary": format_summary(run_id, summary)})
