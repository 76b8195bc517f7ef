"""Counts the items that passed every pipeline, by type: one count, many readers.

The progress line, the run summary and the runs record all read these
counts (``xhs/items/<Item>``), so switching any of them off changes no other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals

from xhs_spider.stats import ITEMS

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class ItemCounts:
    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        crawler.signals.connect(self._count_item, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _count_item(self, item: Any) -> None:
        self.stats.inc_value(ITEMS.format(item_type=type(item).__name__))
