"""The run's journal: every paid answer on disk the moment it arrives.

Each operation is appended to ``journal-<run_id>.jsonl`` (the spill file
format) and flushed before it joins the batch for the store, so a process
that is killed (SIGKILL, out of memory, a reboot within the last second
aside) leaves its paid answers behind. The journal is deleted once the run's
last batch is in the store, kept as the run's spill file if the store went
away, and replayed into the store by the next crawl if the process died.

The running process holds an exclusive lock on its journal: a journal whose
lock can be taken belongs to a process that is gone.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path
from typing import IO, Any

from xhs_spider.store.batch import operation_line

logger = logging.getLogger(__name__)

PREFIX = "journal-"
SUFFIX = ".jsonl"
#: A machine crash loses at most this much; a killed process loses nothing.
FSYNC_INTERVAL = 1.0


class Journal:
    """Append-only, flushed per operation; used from one thread at a time."""

    def __init__(self, path: Path, run_id: str):
        self.path = path
        self.run_id = run_id
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = path.open("a", encoding="utf-8")
        # Blocking: a crawl checking for orphans holds it for an instant.
        fcntl.flock(self._file, fcntl.LOCK_EX)
        self._synced_at = time.monotonic()

    @classmethod
    def for_run(cls, directory: Path, run_id: str) -> Journal:
        return cls(directory / f"{PREFIX}{run_id}{SUFFIX}", run_id)

    def append(self, kind: str, data: dict[str, Any]) -> None:
        if self._file is None:
            raise ValueError(f"journal {self.path} is closed")
        self._file.write(operation_line(kind, self.run_id, data) + "\n")
        self._file.flush()
        if time.monotonic() - self._synced_at >= FSYNC_INTERVAL:
            os.fsync(self._file.fileno())
            self._synced_at = time.monotonic()

    def discard(self) -> None:
        """Everything is in the store: the journal is no longer needed."""
        self._close()
        self.path.unlink(missing_ok=True)

    def keep_as(self, path: Path) -> None:
        """The store went away: the journal becomes the run's spill file."""
        self._close()
        self.path.rename(path)

    def _close(self) -> None:
        if self._file is not None:
            os.fsync(self._file.fileno())
            self._file.close()  # releases the lock
            self._file = None


def orphaned_journals(directory: Path) -> list[Path]:
    """Journals left by processes that are gone (their lock is free)."""
    orphans = []
    for path in sorted(directory.glob(f"{PREFIX}*{SUFFIX}")):
        if not path.stat().st_size:
            continue  # nothing to replay, and maybe a run that is just starting
        try:
            with path.open("a", encoding="utf-8") as journal:
                fcntl.flock(journal, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live run's
        except OSError as exc:
            logger.warning("Cannot check journal %(path)s: %(error)s", {"path": str(path), "error": exc})
            continue
        orphans.append(path)
    return orphans
