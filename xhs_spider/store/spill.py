"""Spill files: what could not reach the store, kept as JSON Lines.

A spill file holds :class:`~xhs_spider.store.WriteBatch` operations, one per
line: the journal of a run whose store went away, or batches written there
when the journal could not be. Replaying one is idempotent, so a file
replayed twice, or a batch that reached the store partly before the
connection dropped, is stored once. A dead run's journal replays the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from xhs_spider.config.declarations import DEFAULT_STORE_PATH, SPILL_DIR, STORE_BATCH_SIZE
from xhs_spider.store.batch import WriteBatch, read_operations
from xhs_spider.store.journal import PREFIX as JOURNAL_PREFIX
from xhs_spider.store.journal import orphaned_journals

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from xhs_spider.store.base import NoteStore

logger = logging.getLogger(__name__)

SUFFIX = ".jsonl"
#: Operations per write when replaying: as many as a crawl's batch.
REPLAY_CHUNK = STORE_BATCH_SIZE.default
REPLAYED_SUFFIX = ".replayed"


def spill_directory(settings: BaseSettings, store: NoteStore) -> Path:
    """XHS_SPILL_DIR, else next to an SQLite store, else ``data/``."""
    configured = SPILL_DIR.get(settings)
    if configured:
        return Path(configured)
    return Path(getattr(store, "path", DEFAULT_STORE_PATH)).parent


def spill_path(directory: str | Path, run_id: str) -> Path:
    return Path(directory) / f"spill-{run_id}{SUFFIX}"


def append(path: Path, batch: WriteBatch) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as spill:
        for line in batch.to_json_lines():
            spill.write(line + "\n")
        spill.flush()


def pending_files(directory: str | Path) -> list[Path]:
    """Spill files not yet replayed, and journals of runs that died."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"spill-*{SUFFIX}")) + orphaned_journals(directory)


def run_id_of(path: Path) -> str:
    """The run that wrote a spill file or journal, from its name."""
    name = path.name.removesuffix(REPLAYED_SUFFIX).removesuffix(SUFFIX)
    return name.removeprefix("spill-").removeprefix(JOURNAL_PREFIX)


def replay(path: Path, store: NoteStore) -> int:
    """Write every operation of *path* to *store*; returns how many.

    A spill file is renamed ``*.replayed`` afterwards, so it is not replayed
    by accident again (replaying it again would do no harm); a dead run's
    journal is deleted, and the run's note leases are released. A last line
    cut short (the writer died) is skipped with a warning; any other
    malformed line refuses the file. Written in chunks of the crawl's batch
    size: a long dead run's journal is no single write that times out.
    """
    with path.open(encoding="utf-8", errors="replace") as spill:
        batches, torn = read_operations(spill)
    if torn is not None:
        logger.warning(
            "%(path)s line %(number)d is cut short (%(problem)s): skipped, the rest is replayed.",
            {"path": str(path), "number": torn[0], "problem": torn[1][:120]},
        )
    for batch in batches:
        for chunk in batch.chunks(REPLAY_CHUNK):
            store.write(chunk)
    # The run is over: its note leases would only hold other crawls back.
    store.release(run_id_of(path))
    if path.name.startswith(JOURNAL_PREFIX):
        path.unlink()
    elif not path.name.endswith(REPLAYED_SUFFIX):
        path.rename(path.with_name(path.name + REPLAYED_SUFFIX))
    return sum(len(batch) for batch in batches)
