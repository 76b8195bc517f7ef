"""A crawl's connection to the store: its threads, journal, batches and reads.

Blocking calls run on worker threads (:class:`WorkerThread`): one for the
store (so SQLite's connection is never shared and batches land in order) and
one for the journal (so an append never waits behind a bulk write). Opening
the session (:class:`StoreSession`) first replays what earlier runs left
behind (spill files, journals of dead runs), so nothing is paid for again
that was already paid for.

Operations get into the store journaled first, then in batches
(:class:`BatchWriter`). Every operation is appended to the run's journal
before it joins the pending batch (:meth:`BatchWriter.add`), so a killed
process loses no paid answer. One flush runs at a time, so a store that is
down is retried once, not once per waiting batch, and items queue up behind
it (backpressure). If the store still refuses after the retries, or its file
is gone, nothing more is written to it: the journal already holds every
operation and becomes the run's spill file at close, named in one ERROR
line. Each batch the store took is forgotten by the journal's memory, which
is what it rewrites if its own file goes away (see
:mod:`~xhs_spider.store.journal`). Only if the journal could be written
nowhere are batches spilled the old way, one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import DeferredLock
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from xhs_spider import stats as keys
from xhs_spider.run import readable
from xhs_spider.store import spill
from xhs_spider.store.base import StoreGone
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.journal import Journal

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

    from xhs_spider.store.base import NoteStore

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

MAX_RETRY_DELAY = 30.0


def _reactor() -> Any:
    # The installed reactor, imported late: Scrapy installs it first. Twisted
    # types it as a module, and its interfaces need a mypy plugin to check.
    from twisted.internet import reactor  # noqa: PLC0415

    return reactor


class WorkerThread:
    """One worker thread for blocking calls (database drivers, file writes).

    One thread, so calls run one at a time and in the order they were made:
    the SQLite connection is never shared between threads, and batches reach
    the store in order.
    """

    def __init__(self, name: str):
        reactor = _reactor()
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name=name)
        self._pool.start()
        # Its thread is not a daemon: an interrupted crawl must still end it.
        self._trigger = reactor.addSystemEventTrigger("during", "shutdown", self._pool.stop)

    async def call(self, function: Callable[..., _T], *args: Any) -> _T:
        deferred = deferToThreadPool(_reactor(), self._pool, function, *args)
        return await maybe_deferred_to_future(deferred)

    def stop(self) -> None:
        _reactor().removeSystemEventTrigger(self._trigger)
        self._pool.stop()


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


class BatchWriter:
    def __init__(
        self,
        store: NoteStore,
        thread: WorkerThread,
        journal: Journal,
        journal_thread: WorkerThread,
        *,
        spill_file: Path,
        retry_times: int,
        retry_backoff: float,
        stats: StatsCollector,
        on_spill: Callable[[], None],
        on_loss: Callable[[], None],
    ):
        self.store = store
        self.thread = thread
        self.journal: Journal | None = journal
        self.journal_thread = journal_thread
        self.run_id = journal.run_id
        self.retry_times = retry_times
        self.retry_backoff = retry_backoff
        self.stats = stats
        self.on_spill = on_spill
        self.on_loss = on_loss
        self.pending = WriteBatch(run_id=self.run_id)
        self.planned_spill_file = spill_file
        #: Set once the store was given up on: the rest goes there.
        self.spill_file: Path | None = None
        #: The last write failed; lookups should wait for the retries to settle.
        self.failing = False
        #: Operations given up on that only the journal holds.
        self.journal_only = 0
        self.spilled = 0
        self.lost = 0
        self._lock = DeferredLock()

    @property
    def busy(self) -> bool:
        return self._lock.locked

    async def add(self, kind: str, data: dict[str, Any]) -> None:
        """Journal one operation, then batch it for the store."""
        journal = self.journal
        if journal is not None:
            try:
                await self.journal_thread.call(journal.append, kind, data)
            except (OSError, ValueError) as exc:
                if self.journal is journal:  # not yet said by an append waiting alongside
                    self._journal_failed(exc)
        self.pending.add(kind, data)

    async def flush(self) -> None:
        await maybe_deferred_to_future(self._lock.acquire())
        try:
            if not len(self.pending):
                return
            batch, self.pending = self.pending, WriteBatch(run_id=self.run_id)
            if self.spill_file is None and await self._write(batch):
                return
            await self._spill(batch)
        finally:
            self._lock.release()

    async def finish(self) -> None:
        """After the last flush: drop the journal, or keep it as the spill file."""
        journal, self.journal = self.journal, None
        if self.spill_file is None:
            if journal is not None:
                await self.journal_thread.call(journal.discard)
            return
        if journal is not None:
            try:
                self.spill_file = await self.journal_thread.call(journal.keep_as, self.spill_file.name)
            except OSError as exc:
                self._lose(journal.held, str(journal.path), exc)
                return
        elif self.spilled == self.lost:
            return  # nothing reached the spill file
        self.stats.set_value(keys.STORE_SPILL_FILE, str(self.spill_file))
        logger.error(
            "Spilled to %(path)s and stopped the crawl; once the store is back, "
            "load it with: scrapy replay-spill %(path)s",
            {"path": str(self.spill_file)},
        )

    async def _write(self, batch: WriteBatch) -> bool:
        for attempt in range(self.retry_times + 1):
            try:
                await self.thread.call(self.store.write, batch)
            except Exception as exc:  # noqa: BLE001 - any failure: retry, then spill
                self.failing = True
                if attempt == self.retry_times or isinstance(exc, StoreGone):
                    logger.error(
                        "The store %(store)s is down (%(error)s).",
                        {"store": self.store.display_uri, "error": str(exc)[:200]},
                    )
                    return False
                await self._before_retry(exc, attempt)
            else:
                self.failing = False
                if self.journal is not None:
                    await self.journal_thread.call(self.journal.stored, len(batch))
                self.stats.inc_value(keys.STORE_BATCHES)
                self.stats.inc_value(keys.STORE_OPERATIONS, len(batch))
                return True
        return False

    async def _before_retry(self, exc: Exception, attempt: int) -> None:
        self.stats.inc_value(keys.STORE_RETRIES)
        # retry_backoff seconds before the first retry (attempt 0), doubling, capped.
        delay = min(MAX_RETRY_DELAY, self.retry_backoff * 2 ** attempt)
        logger.warning(
            "Store write failed (%(error)s); retrying in %(delay)s.",
            {"error": str(exc)[:200], "delay": readable.duration(delay)},
        )
        await sleep(delay)

    async def _spill(self, batch: WriteBatch) -> None:
        if self.spill_file is None:
            self.spill_file = self.planned_spill_file
            logger.warning("Stopping the crawl: what it paid for goes to a spill file, named when it closes.")
            self.on_spill()
        if self.journal is None:
            await self._append_to_spill(batch)
        else:
            self.journal_only += len(batch)
        self.spilled += len(batch)
        self.stats.inc_value(keys.STORE_SPILLED, len(batch))

    async def _append_to_spill(self, batch: WriteBatch) -> None:
        assert self.spill_file is not None
        try:
            await self.thread.call(spill.append, self.spill_file, batch)
        except OSError as exc:
            self._lose(len(batch), str(self.spill_file), exc)

    def _lose(self, count: int, path: str, exc: Exception) -> None:
        """Nowhere left to put *count* operations: say how many, loudly."""
        self.lost += count
        self.stats.inc_value(keys.STORE_LOST, count)
        logger.error(
            "Could not spill %(count)d operations to %(path)s (%(error)s): they are lost.",
            {"count": count, "path": path, "error": exc},
        )
        self.on_loss()

    def _journal_failed(self, exc: Exception) -> None:
        """Without a journal, a kill would lose what is not yet in the store."""
        assert self.journal is not None
        logger.error(
            "Could not write the journal %(path)s anywhere (%(error)s): paid answers are safe "
            "only once in the store now.",
            {"path": str(self.journal.path), "error": exc},
        )
        self.stats.set_value(keys.STORE_JOURNAL_FAILED, str(self.journal.path))
        self.journal = None
        if self.journal_only:  # given up on, and only the journal had them
            self._lose(self.journal_only, str(self.planned_spill_file), exc)
