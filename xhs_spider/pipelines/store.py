"""Stores items in the note store, in batches, off the reactor thread.

Items are buffered and written as one bulk operation per collection when the
buffer is full, on a timer, and at close (:class:`BatchWriter`). If the
store stays down, the rest goes to a spill file (``scrapy replay-spill``) and
the crawl closes with ``xhs_store_spilled``: nothing is lost, and nothing
more is paid for while the store is away. The spiders also ask the store,
through this pipeline, which notes are fresh or stale.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred

from xhs_spider import signals as xhs_signals
from xhs_spider import spill
from xhs_spider.batch_writer import BatchWriter
from xhs_spider.closing import close_crawl
from xhs_spider.items import FeedAppearanceItem, NoteItem
from xhs_spider.normalize import now_iso
from xhs_spider.setting_checks import setting
from xhs_spider.store import StoreUnavailable, store_from_settings
from xhs_spider.summary import run_summary
from xhs_spider.worker_thread import WorkerThread

if TYPE_CHECKING:
    from collections.abc import Collection

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from xhs_spider.store import NoteStore

logger = logging.getLogger(__name__)

UNREACHABLE_REASON = "xhs_store_unreachable"
SPILLED_REASON = "xhs_store_spilled"
LOST_REASON = "xhs_store_lost"


def new_run_id(spider_name: str) -> str:
    started = now_iso()[:19].replace("-", "").replace(":", "")
    return f"{spider_name}-{started}Z-{uuid.uuid4().hex[:6]}"


class StorePipeline:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.batch_size = setting(settings, "XHS_STORE_BATCH_SIZE")
        self.flush_interval = setting(settings, "XHS_STORE_FLUSH_INTERVAL")
        self.retry_times = setting(settings, "XHS_STORE_RETRY_TIMES")
        self.retry_backoff = setting(settings, "XHS_STORE_RETRY_BACKOFF")
        self.detail_ttl = timedelta(seconds=setting(settings, "XHS_DETAIL_TTL"))
        self.store: NoteStore = store_from_settings(settings)
        self.spill_dir = spill.spill_directory(settings, self.store)
        self.run_id = ""
        self.writer: BatchWriter | None = None
        self._timer: Any = None
        self._settled = False
        self._waiting: list[Deferred[None]] = []
        crawler.signals.connect(self._note_unavailable, signal=xhs_signals.note_unavailable)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    # Life cycle ------------------------------------------------------------

    async def open_spider(self) -> None:
        spider = self.crawler.spider
        thread = WorkerThread(name="xhs-store")
        try:
            await thread.call(self.store.open)
        except StoreUnavailable as exc:
            thread.stop()
            logger.error(
                "The store %(store)s is unreachable (%(error)s): not starting, "
                "no API call made. Check XHS_STORE_URI.",
                {"store": self.store.display_uri, "error": str(exc)[:200]},
            )
            raise CloseSpider(UNREACHABLE_REASON) from exc
        self.run_id = new_run_id(spider.name)
        self.writer = BatchWriter(
            self.store,
            thread,
            run_id=self.run_id,
            spill_file=spill.spill_path(self.spill_dir, self.run_id),
            retry_times=self.retry_times,
            retry_backoff=self.retry_backoff,
            stats=self.stats,
            on_spill=lambda: close_crawl(self.crawler, SPILLED_REASON),
            on_loss=self._items_lost,
        )
        logger.info(
            "Storing run %(run_id)s in %(store)s",
            {"run_id": self.run_id, "store": self.store.display_uri},
        )
        self.stats.set_value("justoneapi/store/run_id", self.run_id)
        self.writer.pending.runs.append(self._run_start(spider))
        self._timer = create_looping_call(self._flush_on_timer)
        self._timer.start(self.flush_interval, now=False)

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        if self.writer is not None:
            await self.writer.flush()

    async def _spider_closed(self, reason: str) -> None:
        try:
            if self.writer is not None:
                await self._record_run_end(reason)
        finally:
            self._settled = True
            waiting, self._waiting = self._waiting, []
            for settled in waiting:
                settled.callback(None)

    async def _record_run_end(self, reason: str) -> None:
        assert self.writer is not None
        if self.writer.spill_file is not None and not self.writer.lost:
            # Spilled while flushing at close: the run did not end "finished".
            self.stats.set_value("finish_reason", SPILLED_REASON)
        self.writer.pending.runs.append(self._run_end(reason))
        await self.writer.flush()
        try:
            await self.writer.thread.call(self.store.close)
        finally:
            self.writer.thread.stop()

    def _items_lost(self) -> None:
        self.stats.set_value("finish_reason", LOST_REASON)
        close_crawl(self.crawler, LOST_REASON)

    async def settled(self) -> None:
        """Until the last batch and the run record are written (or spilled).

        spider_closed handlers run concurrently: whoever reports on the run
        (RunSummary, StatsFile) awaits this first.
        """
        if not self._settled:
            settled: Deferred[None] = Deferred()
            self._waiting.append(settled)
            await maybe_deferred_to_future(settled)

    # Items -------------------------------------------------------------------

    async def process_item(self, item: Any) -> Any:
        assert self.writer is not None
        if isinstance(item, NoteItem):
            self.writer.pending.notes.append(dict(item))
        elif isinstance(item, FeedAppearanceItem):
            self.writer.pending.appearances.append(dict(item))
        else:
            return item
        if len(self.writer.pending) >= self.batch_size:
            await self.writer.flush()
        return item

    def _note_unavailable(self, note_id: str, at: str) -> None:
        if self.writer is not None:
            self.writer.pending.unavailable.append((note_id, at))

    def _flush_on_timer(self) -> None:
        if self.writer is not None and not self.writer.busy:
            deferred_from_coro(self.writer.flush()).addErrback(
                lambda failure: logger.error(
                    "Timed store flush failed: %(error)s", {"error": failure.getErrorMessage()}
                )
            )

    # Questions to the store --------------------------------------------------

    async def fresh_and_known(self, note_ids: Collection[str]) -> tuple[set[str], set[str]]:
        """Among *note_ids*: those fetched within XHS_DETAIL_TTL, and those
        ever fetched (a detail or a 201). One store query."""
        if not note_ids or self.writer is None:
            return set(), set()
        try:
            times = await self._fetch_times(note_ids)
        except StoreUnavailable:
            # Paying again for notes the store may hold fresh is what this
            # lookup is for: let the writes retry or spill first, then ask once
            # more. A spilling crawl is closing: it asks for nothing more.
            await self.writer.flush()
            if self.writer.spill_file is not None:
                return set(note_ids), set()
            try:
                times = await self._fetch_times(note_ids)
            except StoreUnavailable as exc:
                logger.warning(
                    "The store cannot say which notes are fresh (%(error)s); fetching them.",
                    {"error": str(exc)[:200]},
                )
                return set(), set()
        since = now_iso(ago=self.detail_ttl)
        fresh = {note_id for note_id, at in times.items() if self.detail_ttl and at >= since}
        return fresh, set(times)

    async def _fetch_times(self, note_ids: Collection[str]) -> dict[str, str]:
        assert self.writer is not None
        if self.writer.failing or self.writer.spill_file is not None:
            raise StoreUnavailable("the store is failing")
        return await self.writer.thread.call(self.store.fetch_times, list(note_ids))

    async def stale_note_ids(self, limit: int | None = None) -> list[str]:
        """Stored notes whose detail is older than XHS_DETAIL_TTL, oldest first."""
        assert self.writer is not None
        before = now_iso(ago=self.detail_ttl)
        return await self.writer.thread.call(self.store.stale_note_ids, before, limit)

    # Run records -------------------------------------------------------------

    def _run_start(self, spider: Spider) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "spider": spider.name,
            "arguments": dict(getattr(spider, "run_arguments", {})),
            "started_at": now_iso(),
        }

    def _run_end(self, reason: str) -> dict[str, Any]:
        assert self.writer is not None
        if self.writer.spill_file is not None:
            reason = LOST_REASON if self.writer.lost else SPILLED_REASON
        arguments = dict(getattr(self.crawler.spider, "run_arguments", {}))
        return {
            "run_id": self.run_id,
            "arguments": arguments,  # now with the defaults the spider resolved
            "finished_at": now_iso(),
            "finish_reason": reason,
            "summary": run_summary(self.stats.get_stats(), reason, arguments),
        }


async def store_settled(crawler: Crawler) -> None:
    """Until the crawl's StorePipeline, if enabled, has finished writing."""
    pipeline = crawler.get_item_pipeline(StorePipeline)
    if pipeline is not None:
        await pipeline.settled()
