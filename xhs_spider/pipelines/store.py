"""Stores items in the note store: journaled at once, written in batches.

Every item (and every paid answer that gave none, through
:class:`~xhs_spider.extensions.freshness.Freshness`) is appended to the
run's journal before anything else happens to it, then written to the store
in bulk when the batch is full, on a timer, and at close. If the store stays
down, the journal becomes a spill file (``scrapy replay-spill``) and the
crawl closes with ``xhs_store_spilled``: nothing is lost, and nothing more is
paid for while the store is away. The pipeline owns the crawl's
:class:`~xhs_spider.store.session.StoreSession`; Freshness reads through it.
"""

from __future__ import annotations

import logging
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
    shared_crawl,
)
from xhs_spider.items import (
    AppearanceItem,
    CommentItem,
    CreatorItem,
    FeedAppearanceItem,
    NoteItem,
    RawAnswerItem,
)
from xhs_spider.outcome.extension import outcome_of
from xhs_spider.outcome.reasons import (
    FORCED_SHUTDOWN,
    STORE_SPILL_PENDING,
    STORE_UNREACHABLE,
    XHS_STORE_LOST,
    XHS_STORE_SPILLED,
)
from xhs_spider.run.identity import crawl_id, new_run_id
from xhs_spider.stats import STORE_RUN_ID
from xhs_spider.store import spill
from xhs_spider.store.base import StoreUnavailable
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.session import PendingSpills, StoreSession
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from xhs_spider.store.base import NoteStore

logger = logging.getLogger(__name__)

#: The store's operation kind of each item class this pipeline stores.
ITEM_KINDS = {
    NoteItem: "note", FeedAppearanceItem: "appearance", AppearanceItem: "source_appearance",
    CreatorItem: "creator", RawAnswerItem: "raw_answer", CommentItem: "comment",
}


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
        self.jobdir = settings.get("JOBDIR")
        self.shared_crawl_id = shared_crawl(settings)
        self.session: StoreSession | None = None
        self._timer: Any = None
        self._settled = False
        self._waiting: list[Deferred[None]] = []
        self._recording: set[Deferred[None]] = set()
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def run_id(self) -> str:
        return "" if self.session is None else self.session.run_id

    # Life cycle ------------------------------------------------------------

    async def open_spider(self) -> None:
        spider = self.crawler.spider
        assert spider is not None
        run_id = new_run_id(spider.name)
        session = StoreSession(self.store, self.spill_dir, run_id, crawl_id(self.jobdir, run_id, self.shared_crawl_id))
        try:
            await session.open(
                self.stats, retry_times=self.retry_times, retry_backoff=self.retry_backoff,
                on_spill=lambda: outcome_of(self.crawler).fail(XHS_STORE_SPILLED),
                on_loss=lambda: outcome_of(self.crawler).fail(XHS_STORE_LOST),
            )
        except (StoreUnavailable, PendingSpills) as exc:
            raise CloseSpider(self._refuse(exc)) from exc
        self.session = session
        logger.info(
            "Storing run %(run_id)s (crawl %(crawl_id)s) in %(store)s",
            {"run_id": run_id, "crawl_id": session.crawl_id, "store": self.store.display_uri},
        )
        self.stats.set_value(STORE_RUN_ID, run_id)
        await self.record("run", self._run_start(spider))
        self._timer = create_looping_call(self._flush_on_timer)
        self._timer.start(self.flush_interval, now=False)

    def _refuse(self, exc: Exception) -> str:
        if isinstance(exc, PendingSpills):
            logger.error(
                "Files of earlier runs could not be replayed into the store: %(files)s. "
                "Not starting, no API call made: fix or move them, then run again.",
                {"files": str(exc)},
            )
            return STORE_SPILL_PENDING
        logger.error(
            "The store %(store)s is unreachable (%(error)s): not starting, "
            "no API call made. Check XHS_STORE_URI.",
            {"store": self.store.display_uri, "error": str(exc)[:200]},
        )
        return STORE_UNREACHABLE

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        while self._recording:
            await maybe_deferred_to_future(next(iter(self._recording)))
        if self.session is not None and self.session.writer is not None:
            await self.session.writer.flush()

    async def _spider_closed(self, reason: str) -> None:
        try:
            if self.session is not None:
                await self._record_run_end(reason)
        finally:
            self._settled = True
            waiting, self._waiting = self._waiting, []
            for settled in waiting:
                settled.callback(None)

    async def _record_run_end(self, reason: str) -> None:
        assert self.session is not None
        await self.record("run", self._run_end(reason))
        try:
            await self.session.read(self.store.release, self.run_id)
        except StoreUnavailable as exc:
            logger.warning("Could not release this run's note leases (%(error)s); they expire.",
                           {"error": str(exc)[:200]})
        await self.session.close()

    async def settled(self) -> None:
        """Until the last batch and the run record are written (or spilled).

        spider_closed handlers run concurrently: whoever reports on the run
        (RunSummary, StatsFile) awaits this first.
        """
        if not self._settled:
            settled: Deferred[None] = Deferred()
            self._waiting.append(settled)
            await maybe_deferred_to_future(settled)

    # Operations ------------------------------------------------------------------

    async def process_item(self, item: Any) -> Any:
        kind = ITEM_KINDS.get(type(item))
        if kind is not None:
            await self.record(kind, dict(item))
        return item

    async def record(self, kind: str, data: dict[str, Any]) -> None:
        """Journal one operation at once, and write it with the next batch."""
        assert self.session is not None and self.session.writer is not None
        writer = self.session.writer
        await writer.add(kind, data)
        if len(writer.pending) >= self.batch_size:
            await writer.flush()

    def record_soon(self, kind: str, data: dict[str, Any]) -> None:
        """:meth:`record`, for callers that cannot wait; awaited at close."""
        recording = deferred_from_coro(self.record(kind, data))
        self._recording.add(recording)
        recording.addBoth(self._recorded, recording)

    def _recorded(self, result: Any, recording: Deferred[None]) -> None:
        self._recording.discard(recording)
        if hasattr(result, "getErrorMessage"):
            logger.error("Could not record an operation: %(error)s",
                         {"error": result.getErrorMessage()})

    def _flush_on_timer(self) -> None:
        writer = None if self.session is None else self.session.writer
        if writer is not None and not writer.busy:
            deferred_from_coro(writer.flush()).addErrback(
                lambda failure: logger.error(
                    "Timed store flush failed: %(error)s", {"error": failure.getErrorMessage()}
                )
            )

    # Run records -------------------------------------------------------------

    def _run_start(self, spider: Spider) -> dict[str, Any]:
        assert self.session is not None
        return {
            "run_id": self.run_id,
            "crawl_id": self.session.crawl_id,
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


def record_forced_shutdown(crawler: Crawler) -> None:
    """After the reactor was stopped mid-close: say so in the run's record.

    Runs on the main thread once nothing else does. What the run journaled
    is replayed by the next crawl (its journal is an orphan now).
    """
    pipeline = crawler.get_item_pipeline(StorePipeline)
    if pipeline is None or not pipeline.run_id:
        return
    record = {"run_id": pipeline.run_id, "finish_reason": FORCED_SHUTDOWN, "finished_at": now_iso()}
    try:
        with store_from_settings(crawler.settings) as store:
            store.write(WriteBatch(run_id=pipeline.run_id, runs=[record]))
            store.release(pipeline.run_id)
    except StoreUnavailable as exc:
        logger.error("Could not record the forced shutdown in the store: %(error)s",
                     {"error": str(exc)[:200]})


async def store_settled(crawler: Crawler) -> None:
    """Until the crawl's StorePipeline, if enabled, has finished writing."""
    pipeline = crawler.get_item_pipeline(StorePipeline)
    if pipeline is not None:
        await pipeline.settled()

