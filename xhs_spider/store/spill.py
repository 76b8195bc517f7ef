"""Spill files: what could not reach the store, kept as JSON Lines.

A spill file holds :class:`~xhs_spider.store.WriteBatch` operations, one per
line. Replaying one is idempotent, so a file replayed twice, or a batch that
reached the store partly before the connection dropped, is stored once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from xhs_spider.config.declarations import DEFAULT_STORE_PATH
from xhs_spider.config.declarations import SPILL_DIR
from xhs_spider.store.batch import WriteBatch

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from xhs_spider.store.base import NoteStore

SUFFIX = ".jsonl"
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
    return sorted(Path(directory).glob(f"spill-*{SUFFIX}"))


def replay(path: Path, store: NoteStore) -> int:
    """Write every operation of *path* to *store*; returns how many.

    The file is renamed ``*.replayed`` afterwards, so it is not replayed by
    accident again (replaying it again would do no harm).
    """
    with path.open(encoding="utf-8") as spill:
        batches = WriteBatch.from_json_lines(spill)
    for batch in batches:
        store.write(batch)
    if not path.name.endswith(REPLAYED_SUFFIX):
        path.rename(path.with_name(path.name + REPLAYED_SUFFIX))
    return sum(len(batch) for batch in batches)
