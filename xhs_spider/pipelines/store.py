"""Stores items in the note store, in batches, off the reactor thread.

Items are buffered and written as one bulk operation per collection when the
buffer is full, on a timer, and at close (:class:`BatchWriter`). If the
store stays down, the rest goes to a spill file (``scrapy replay-spill``) and
the crawl closes with ``xhs_store_spilled``: nothing is lost, and nothing
more is paid for while the store is away. The pipeline owns the crawl's
connection to the store: :class:`~xhs_spider.extensions.freshness.Freshness`
reads through it, and records what the API answered without an item.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred

from xhs_spider.api.normalize import now_iso
from xhs_spider.config.declarations import (
    STORE_BATCH_SIZE,
    STORE_FLUSH_INTERVAL,
    STORE_RETRY_BACKOFF,
    STORE_RETRY_TIMES,
)
from xhs_spider.extensions.run_outcome import outcome_of
from xhs_spider.items import FeedAppearanceItem, NoteItem
from xhs_spider.run.finish import STORE_LOST, STORE_SPILLED, STORE_UNREACHABLE
from xhs_spider.stats import STORE_RUN_ID
from xhs_spider.store import spill
from xhs_spider.store.base import StoreUnavailable
from xhs_spider.store.batch_writer import BatchWriter
from xhs_spider.store.uri import store_from_settings
from xhs_spider.store.worker_thread import WorkerThread

if TYPE_CHECKING:
    from collections.abc import Collection

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from xhs_spider.store.base import NoteStore

logger = logging.getLogger(__name__)


class StoreClosing(Exception):
    """The store went away and the crawl is closing: pay for nothing more."""


def new_run_id(spider_name: str) -> str:
    started = now_iso()[:19].replace("-", "").replace(":", "")
    return f"{spider_name}-{started}Z-{uuid.uuid4().hex[:6]}"


class StorePipeline:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.batch_size = STORE_BATCH_SIZE.get(settings)
        self.flush_interval = STORE_FLUSH_INTERVAL.get(settings)
        self.retry_times = STORE_RETRY_TIMES.get(settings)
        self.retry_backoff = STORE_RETRY_BACKOFF.get(settings)
        self.store: NoteStore = store_from_settings(settings)
        self.spill_dir = spill.spill_directory(settings, self.store)
        self.run_id = ""
        self.writer: BatchWriter | None = None
        self._timer: Any = None
        self._settled = False
        self._waiting: list[Deferred[None]] = []
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    # Life cycle ------------------------------------------------------------

    async def open_spider(self) -> None:
        spider = self.crawler.spider
        assert spider is not None
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
            raise CloseSpider(STORE_UNREACHABLE) from exc
        self.run_id = new_run_id(spider.name)
        self.writer = BatchWriter(
            self.store,
            thread,
            run_id=self.run_id,
            spill_file=spill.spill_path(self.spill_dir, self.run_id),
            retry_times=self.retry_times,
            retry_backoff=self.retry_backoff,
            stats=self.stats,
            on_spill=lambda: outcome_of(self.crawler).fail(STORE_SPILLED),
            on_loss=lambda: outcome_of(self.crawler).fail(STORE_LOST),
        )
        logger.info(
            "Storing run %(run_id)s in %(store)s",
            {"run_id": self.run_id, "store": self.store.display_uri},
        )
        self.stats.set_value(STORE_RUN_ID, self.run_id)
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
        self.writer.pending.runs.append(self._run_end(reason))
        await self.writer.flush()
        try:
            await self.writer.thread.call(self.store.close)
        finally:
            self.writer.thread.stop()

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

    def record_unavailable(self, note_id: str, at: str) -> None:
        """The detail of *note_id* was answered 201 (billed, no content) at *at*."""
        assert self.writer is not None
        self.writer.pending.unavailable.append((note_id, at))

    def _flush_on_timer(self) -> None:
        if self.writer is not None and not self.writer.busy:
            deferred_from_coro(self.writer.flush()).addErrback(
                lambda failure: logger.error(
                    "Timed store flush failed: %(error)s", {"error": failure.getErrorMessage()}
                )
            )

    # Reads ---------------------------------------------------------------------

    async def fetch_times(self, note_ids: Collection[str]) -> dict[str, str]:
        """For those of *note_ids* ever fetched, when (see ``NoteStore.fetch_times``).

        The answer decides what is paid for again, so a failing store gets
        the chance to settle its writes and is asked once more.
        ``StoreClosing`` once the writes spill; ``StoreUnavailable`` if the
        store still cannot answer.
        """
        assert self.writer is not None
        try:
            return await self._read_fetch_times(note_ids)
        except StoreUnavailable:
            await self.writer.flush()
            return await self._read_fetch_times(note_ids)

    async def _read_fetch_times(self, note_ids: Collection[str]) -> dict[str, str]:
        assert self.writer is not None
        if self.writer.spill_file is not None:
            raise StoreClosing(str(self.writer.spill_file))
        if self.writer.failing:
            raise StoreUnavailable("the store is failing")
        return await self.writer.thread.call(self.store.fetch_times, list(note_ids))

    async def stale_note_ids(self, before: str, limit: int | None = None) -> list[str]:
        """Stored notes whose detail is older than *before*, oldest first."""
        assert self.writer is not None
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
        summary = outcome_of(self.crawler).conclude(reason)
        return {
            "run_id": self.run_id,
            "arguments": summary["arguments"],  # now with the defaults the spider resolved
            "finished_at": now_iso(),
            "finish_reason": summary["finish_reason"],
            "summary": summary,
        }


async def store_settled(crawler: Crawler) -> None:
    """Until the crawl's StorePipeline, if enabled, has finished writing."""
    pipeline = crawler.get_item_pipeline(StorePipeline)
    if pipeline is not None:
        await pipeline.settled()
