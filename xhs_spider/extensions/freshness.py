"""Which notes need a paid detail call: the one owner of that question.

A note whose detail (or 201 answer) the store holds from within
``XHS_DETAIL_TTL`` is fresh: asking for it again would pay twice for what
the user already has. The spiders ask this component, never the store; it
also records the paid answers that yield no item (a 201), so that the TTL
applies to them too. Without the store (``StorePipeline`` disabled) every
note is fetched.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from xhs_spider.api.normalize import now_iso
from xhs_spider.config.declarations import DETAIL_TTL
from xhs_spider.pipelines.store import StoreClosing, StorePipeline
from xhs_spider.stats import NOTES_NEW, NOTES_REFRESHED, NOTES_SKIPPED_FRESH, NOTES_STALE
from xhs_spider.store.base import StoreUnavailable

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class NoStore(Exception):
    """The question needs the store, and StorePipeline is disabled."""


class Freshness:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.ttl = timedelta(seconds=DETAIL_TTL.get(crawler.settings))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def _store(self) -> StorePipeline | None:
        return self.crawler.get_item_pipeline(StorePipeline)

    async def notes_to_fetch(self, note_ids: list[str], *, skip_fresh: bool) -> list[str]:
        """*note_ids* to ask details for, counting new, refreshed and fresh ones.

        With *skip_fresh*, notes fetched within XHS_DETAIL_TTL are left out.
        """
        if not note_ids:
            return []
        try:
            times = await self._fetch_times(note_ids)
        except StoreClosing:
            return []
        since = now_iso(ago=self.ttl)
        fresh = {n for n, at in times.items() if skip_fresh and self.ttl and at >= since}
        wanted = [note_id for note_id in note_ids if note_id not in fresh]
        self.stats.inc_value(NOTES_SKIPPED_FRESH, len(note_ids) - len(wanted))
        self.stats.inc_value(NOTES_NEW, sum(n not in times for n in wanted))
        self.stats.inc_value(NOTES_REFRESHED, sum(n in times for n in wanted))
        return wanted

    async def _fetch_times(self, note_ids: list[str]) -> dict[str, str]:
        store = self._store
        if store is None:
            return {}
        try:
            return await store.fetch_times(note_ids)
        except StoreUnavailable as exc:
            logger.warning(
                "The store cannot say which notes are fresh (%(error)s); fetching them.",
                {"error": str(exc)[:200]},
            )
            return {}

    async def stale_note_ids(self, limit: int | None) -> list[str]:
        """Stored notes whose detail is older than XHS_DETAIL_TTL, oldest first."""
        store = self._store
        if store is None:
            raise NoStore("-a stale=true needs the store (StorePipeline is disabled).")
        note_ids = await store.stale_note_ids(now_iso(ago=self.ttl), limit)
        self.stats.set_value(NOTES_STALE, len(note_ids))
        return note_ids

    def record_unavailable(self, note_id: str) -> None:
        """The detail of *note_id* was answered 201: paid for, nothing to store
        but the fact, which keeps it from being paid for again within the TTL."""
        store = self._store
        if store is not None:
            store.record_unavailable(note_id, now_iso())
