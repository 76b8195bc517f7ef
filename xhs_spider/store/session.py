"""A crawl's connection to the store: its threads, journal, batches and reads.

Blocking calls run on worker threads: one for the store (so SQLite's
connection is never shared and batches land in order) and one for the
journal (so an append never waits behind a bulk write). Opening the session
first replays what earlier runs left behind (spill files, journals of dead
runs), so nothing is paid for again that was already paid for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from xhs_spider import stats as keys
from xhs_spider.store import spill
from xhs_spider.store.batch_writer import BatchWriter
from xhs_spider.store.journal import Journal
from xhs_spider.store.worker_thread import WorkerThread

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

    from xhs_spider.store.base import NoteStore

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class PendingSpills(Exception):
    """Files of earlier runs that could not be replayed; the message names them."""


class StoreSession:
    def __init__(self, store: NoteStore, spill_dir: Path, run_id: str, crawl_id: str):
        self.store = store
        self.spill_dir = spill_dir
        self.run_id = run_id
        self.crawl_id = crawl_id
        self.thread = WorkerThread(name="xhs-store")
        self.journal_thread = WorkerThread(name="xhs-journal")
        self.writer: BatchWriter | None = None

    async def open(self, stats: StatsCollector, **writer_options: Any) -> None:
        """Connect, replay what earlier runs left, start the journal.

        ``StoreUnavailable`` if the store does not answer; ``PendingSpills``
        if what earlier runs left cannot be replayed.
        """
        try:
            await self.thread.call(self.store.open)
            stats.set_value(keys.STORE_REPLAYED, await self.thread.call(self._replay_pending))
            journal = await self.journal_thread.call(Journal.for_run, self.spill_dir, self.run_id)
        except BaseException:
            self._stop_threads()
            raise
        self.writer = BatchWriter(
            self.store, self.thread, journal, self.journal_thread,
            spill_file=spill.spill_path(self.spill_dir, self.run_id), stats=stats,
            **writer_options,
        )

    def _replay_pending(self) -> int:
        replayed, refused = 0, []
        for path in spill.pending_files(self.spill_dir):
            try:
                count = spill.replay(path, self.store)
            except (OSError, ValueError) as exc:
                refused.append(f"{path} ({str(exc)[:120]})")
                continue
            logger.info(
                "Replayed %(count)d operations of %(path)s into the store before crawling.",
                {"count": count, "path": str(path)},
            )
            replayed += count
        if refused:
            raise PendingSpills("; ".join(refused))
        return replayed

    async def add(self, kind: str, data: dict[str, Any]) -> None:
        assert self.writer is not None
        await self.writer.add(kind, data)

    async def read(self, function: Callable[..., _T], *args: Any) -> _T:
        """A store call on the store's thread, in order with the writes."""
        return await self.thread.call(function, *args)

    async def close(self) -> None:
        """Write what is pending, settle the journal, disconnect."""
        try:
            if self.writer is not None:
                await self.writer.flush()
                await self.writer.finish()
            await self.thread.call(self.store.close)
        finally:
            self._stop_threads()

    def _stop_threads(self) -> None:
        self.thread.stop()
        self.journal_thread.stop()
