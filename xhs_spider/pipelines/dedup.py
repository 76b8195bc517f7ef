"""Drops an item already seen in this run: one note, one appearance, one
creator's profile, one comment (an inline reply seen again on a reply page), once. Raw answers are never the same twice: each is a
paid answer of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from xhs_spider.items import AppearanceItem, CommentItem, CreatorItem, FeedAppearanceItem, NoteItem
from xhs_spider.run.recent import RecentSet
from xhs_spider.stats import DEDUP_DROPPED

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


def item_key(item: Any) -> tuple | None:
    """What makes an item the same item again; ``None`` for other items."""
    if isinstance(item, NoteItem):
        return ("note", item["note_id"])
    if isinstance(item, FeedAppearanceItem):
        return ("appearance", item["channel"], item["page"], item["position"], item["note_id"])
    if isinstance(item, AppearanceItem):
        return ("source_appearance", item["source_kind"], item["source_value"], item["page"],
                item["position"], item["note_id"])
    if isinstance(item, CreatorItem):
        return ("creator", item["user_id"])
    if isinstance(item, CommentItem):
        return ("comment", item["comment_id"])
    return None


class DedupPipeline:
    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        # Recent items only: one note or one feed place comes back, if ever,
        # within the same pages and batches, and memory stays flat.
        self.seen: RecentSet[int] = RecentSet()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        key = item_key(item)
        if key is None:
            return item
        if hash(key) in self.seen:
            self.stats.inc_value(DEDUP_DROPPED.format(item_type=type(item).__name__))
            raise DropItem(f"Duplicate {type(item).__name__} {key[1:]}")
        self.seen.add(hash(key))
        return item
