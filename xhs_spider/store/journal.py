"""The run's journal: every paid answer on disk the moment it arrives.

Each operation is appended to ``journal-<run_id>.jsonl`` (the spill file
format) and flushed before it joins the batch for the store, so a process
that is killed (SIGKILL, out of memory, a reboot within the last second
aside) leaves its paid answers behind. The journal is deleted once the run's
last batch is in the store, kept as the run's spill file if the store went
away, and replayed into the store by the next crawl if the process died.

The journal also survives its own file going away. After each write it
checks that its path is still its file; if the file was deleted or replaced
(its whole directory removed, say), or cannot be written (a disk error), it
moves to its directory re-created, else to the system's temporary
directory. What it wrote so far is copied there through the descriptor it
still holds (a deleted file lives on while it is open); if that cannot be
read, the operations it keeps in memory are written instead: those not yet
in the store (:meth:`Journal.stored` forgets each batch the store took), so
memory holds one or two batches, not the run.

The running process holds an exclusive lock on its journal: a journal whose
lock can be taken belongs to a process that is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import IO, Any

from xhs_spider.store.batch import operation_line

logger = logging.getLogger(__name__)

PREFIX = "journal-"
SUFFIX = ".jsonl"
#: A machine crash loses at most this much; a killed process loses nothing.
FSYNC_INTERVAL = 1.0
#: Bytes read at a time when copying a journal whose file went away.
COPY_CHUNK = 1 << 20


class _Unreadable(Exception):
    """The old file cannot be read back: write from memory instead."""


class Journal:
    """Append-only, flushed per operation; used from one thread at a time."""

    def __init__(self, path: Path, run_id: str):
        self.path = path
        self.run_id = run_id
        #: Where it is re-created if it goes away (the spill directory).
        self.directory = path.parent
        #: Lines not yet in the store, oldest first.
        self._held: deque[bytes] = deque()
        self._file: IO[bytes] | None = None
        #: (device, inode) of the file, to notice another file in its place.
        self._identity = (0, 0)
        #: Bytes known to be in the file: what a copy of it takes.
        self._written = 0
        self._synced_at = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._take(path.open("ab+"))

    @classmethod
    def for_run(cls, directory: Path, run_id: str) -> Journal:
        return cls(directory / f"{PREFIX}{run_id}{SUFFIX}", run_id)

    @property
    def held(self) -> int:
        """Operations journaled and not yet in the store."""
        return len(self._held)

    def append(self, kind: str, data: dict[str, Any]) -> None:
        """Write one operation; ``OSError`` only if no place would take the journal."""
        file = self._open_file()
        line = (operation_line(kind, self.run_id, data) + "\n").encode("utf-8")
        self._held.append(line)
        try:
            file.write(line)
            file.flush()
        except OSError as exc:
            self._move(exc, unwritten=line)
            return
        self._written += len(line)
        try:
            self._check_in_place()
            if time.monotonic() - self._synced_at >= FSYNC_INTERVAL:
                os.fsync(file.fileno())
                self._synced_at = time.monotonic()
        except OSError as exc:
            self._move(exc)

    def stored(self, count: int) -> None:
        """The oldest *count* operations are in the store: forget them."""
        for _ in range(min(count, len(self._held))):
            self._held.popleft()

    def discard(self) -> None:
        """Everything is in the store: the journal is no longer needed."""
        self._close_quietly()
        self.path.unlink(missing_ok=True)

    def keep_as(self, name: str) -> Path:
        """The store went away: the journal becomes the spill file *name*
        beside it (elsewhere if its file is gone); returns its path."""
        file = self._open_file()
        target = self.path.with_name(name)
        try:
            self._check_in_place()
            os.fsync(file.fileno())
            self.path.rename(target)  # open, so a deletion meanwhile is copied below
            self.path = target
        except OSError as exc:
            self._move(exc, name=name)
        self._close_quietly()
        return self.path

    # Moving ------------------------------------------------------------------

    def _move(self, problem: OSError, *, unwritten: bytes = b"", name: str | None = None) -> None:
        """Go on in the first place that takes the journal, or raise *problem*."""
        old, old_path, written = self._file, self.path, self._written
        self._file = None
        try:
            for directory in dict.fromkeys([self.directory, Path(tempfile.gettempdir())]):
                path = directory / (name or old_path.name)
                try:
                    source = self._rewrite(path, old, written, unwritten)
                except OSError:
                    continue
                logger.warning(
                    "The journal %(old)s is gone or cannot be written (%(error)s): it goes on "
                    "as %(path)s, with %(source)s.",
                    {"old": str(old_path), "error": problem, "path": str(path), "source": source},
                )
                return
        finally:
            if old is not None:
                with contextlib.suppress(OSError):
                    old.close()
        raise problem

    def _rewrite(self, path: Path, old: IO[bytes] | None, written: int, unwritten: bytes) -> str:
        """The journal as *path*: a copy of *old*, else what memory holds."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, part = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        new = open(handle, "ab+")  # noqa: SIM115 - kept open as the journal
        try:
            fcntl.flock(new, fcntl.LOCK_EX)
            try:
                _copy(old, written, new)
                new.write(unwritten)
                source = "everything it held"
            except _Unreadable:
                new.seek(0)
                new.truncate()
                new.writelines(self._held)
                source = "the %d operations not yet in the store, from memory" % len(self._held)
            new.flush()
            os.fsync(new.fileno())
            os.replace(part, path)
        except BaseException:
            new.close()
            Path(part).unlink(missing_ok=True)
            raise
        self.path = path
        self._take(new)
        return source

    # The open file ---------------------------------------------------------------

    def _take(self, file: IO[bytes]) -> None:
        # Blocking: a crawl checking for orphans holds it for an instant.
        fcntl.flock(file, fcntl.LOCK_EX)
        found = os.fstat(file.fileno())
        self._file, self._identity, self._written = file, (found.st_dev, found.st_ino), found.st_size
        self._synced_at = time.monotonic()

    def _open_file(self) -> IO[bytes]:
        if self._file is None:
            raise ValueError(f"journal {self.path} is closed")
        return self._file

    def _check_in_place(self) -> None:
        """``OSError`` if the journal's path is no longer its file."""
        found = os.stat(self.path)
        if (found.st_dev, found.st_ino) != self._identity:
            raise FileNotFoundError(f"{self.path} was replaced by another file")

    def _close_quietly(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                os.fsync(file.fileno())
            with contextlib.suppress(OSError):
                file.close()  # releases the lock


def _copy(source: IO[bytes] | None, size: int, target: IO[bytes]) -> None:
    """The first *size* bytes of *source* into *target*; ``_Unreadable`` if
    they cannot be read (then *target* may hold part of them)."""
    if source is None:
        raise _Unreadable
    offset = 0
    while offset < size:
        try:
            chunk = os.pread(source.fileno(), min(COPY_CHUNK, size - offset), offset)
        except OSError as exc:
            raise _Unreadable from exc
        if not chunk:
            raise _Unreadable
        target.write(chunk)
        offset += len(chunk)


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
