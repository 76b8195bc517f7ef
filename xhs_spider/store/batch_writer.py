"""Getting batches into the store: one at a time, retried, spilled if need be.

One flush runs at a time, so a store that is down is retried once, not once
per waiting batch, and items queue up behind it (backpressure). A batch the
store still refuses after the retries, and every batch after it, goes to a
spill file instead; nothing is dropped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import DeferredLock

from xhs_spider.store import spill
from xhs_spider import stats as keys
from xhs_spider.api.backoff import exponential_delay
from xhs_spider.store.batch import WriteBatch

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from scrapy.statscollectors import StatsCollector

    from xhs_spider.store.base import NoteStore
    from xhs_spider.store.worker_thread import WorkerThread

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY = 30.0


class BatchWriter:
    def __init__(
        self,
        store: NoteStore,
        thread: WorkerThread,
        *,
        run_id: str,
        spill_file: Path,
        retry_times: int,
        retry_backoff: float,
        stats: StatsCollector,
        on_spill: Callable[[], None],
        on_loss: Callable[[], None],
    ):
        self.store = store
        self.thread = thread
        self.run_id = run_id
        self.retry_times = retry_times
        self.retry_backoff = retry_backoff
        self.stats = stats
        self.on_spill = on_spill
        self.on_loss = on_loss
        self.pending = WriteBatch(run_id=run_id)
        self.planned_spill_file = spill_file
        #: Set once a batch went to the spill file: every later one follows.
        self.spill_file: Path | None = None
        #: The last write failed; lookups should wait for the retries to settle.
        self.failing = False
        self.lost = 0
        self._lock = DeferredLock()

    @property
    def busy(self) -> bool:
        return self._lock.locked

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

    async def _write(self, batch: WriteBatch) -> bool:
        for attempt in range(self.retry_times + 1):
            try:
                await self.thread.call(self.store.write, batch)
            except Exception as exc:  # noqa: BLE001 - any failure: retry, then spill
                self.failing = True
                if attempt == self.retry_times:
                    logger.error(
                        "The store %(store)s is down (%(error)s).",
                        {"store": self.store.display_uri, "error": str(exc)[:200]},
                    )
                    return False
                self.stats.inc_value(keys.STORE_RETRIES)
                delay = exponential_delay(self.retry_backoff, attempt + 1, MAX_RETRY_DELAY)
                logger.warning(
                    "Store write failed (%(error)s); retrying in %(delay).1f s.",
                    {"error": str(exc)[:200], "delay": delay},
                )
                await sleep(delay)
            else:
                self.failing = False
                self.stats.inc_value(keys.STORE_BATCHES)
                self.stats.inc_value(keys.STORE_OPERATIONS, len(batch))
                return True
        return False

    async def _spill(self, batch: WriteBatch) -> None:
        if self.spill_file is None:
            self.spill_file = self.planned_spill_file
            self.stats.set_value(keys.STORE_SPILL_FILE, str(self.spill_file))
            logger.error(
                "Spilling to %(path)s and stopping the crawl; once the store is "
                "back, load it with: scrapy replay-spill %(path)s",
                {"path": str(self.spill_file)},
            )
            self.on_spill()
        try:
            await self.thread.call(spill.append, self.spill_file, batch)
        except OSError as exc:
            # Nowhere left to put it: say how much, loudly.
            self.lost += len(batch)
            self.stats.inc_value(keys.STORE_LOST, len(batch))
            logger.error(
                "Could not spill %(count)d operations to %(path)s (%(error)s): they are lost.",
                {"count": len(batch), "path": str(self.spill_file), "error": exc},
            )
            self.on_loss()
            return
        self.stats.inc_value(keys.STORE_SPILLED, len(batch))
