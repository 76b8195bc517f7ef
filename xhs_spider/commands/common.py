"""What several commands share. Functions only: a ScrapyCommand here would become a command."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from xhs_spider.outcome.reasons import EXIT_USAGE

if TYPE_CHECKING:
    from scrapy.commands import ScrapyCommand


class OutputUnusable(ValueError):
    """The output file named cannot be written: bad input, one line."""


def fail(command: ScrapyCommand, problem: str, status: int = EXIT_USAGE) -> None:
    """One clear line on stderr; *command* exits with *status*."""
    print("Error: %s" % problem, file=sys.stderr)
    command.exitcode = status


@contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A new temporary file of its own beside *path*, to write the output
    into; it becomes *path* in one rename when the block ends, and is removed
    if the block fails. Readers of *path* see the old file or the new one,
    whole; of two commands writing *path* at once, the last to end wins. The
    new file keeps the mode of the file it replaces (a private export stays
    private); a new one gets what a plain open() would give it.

    The file is made before the block runs, so an unusable *path* (a
    directory, a parent that is a file, no right to write there) is
    :class:`OutputUnusable` before anything is read. The directories made
    for it are removed again if the block fails (no store, say), when empty.
    """
    created = _missing_directories(path.parent)
    partial: Path | None = None
    try:
        partial = _temporary_beside(path)
        yield partial
        partial.chmod(_mode_for(path))
        os.replace(partial, path)
    except OSError as exc:
        _remove(partial, created)
        raise OutputUnusable(_cannot_write(path, exc)) from exc
    except BaseException:
        _remove(partial, created)
        raise


def _missing_directories(directory: Path) -> list[Path]:
    """The directories of *directory*'s path that do not exist yet, deepest first."""
    missing = []
    for ancestor in (directory, *directory.parents):
        if os.path.lexists(ancestor):
            break
        missing.append(ancestor)
    return missing


def _remove(partial: Path | None, created: list[Path]) -> None:
    if partial is not None:
        partial.unlink(missing_ok=True)
    for directory in created:
        try:
            directory.rmdir()
        except OSError:  # something else was written there meanwhile
            return


def _mode_for(path: Path) -> int:
    """The permission bits of the file *path* replaces, or a new file's."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _temporary_beside(path: Path) -> Path:
    try:
        if path.is_dir():
            raise IsADirectoryError(0, "it is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputUnusable(_cannot_write(path, exc)) from exc
    os.close(descriptor)
    return Path(name)


def _cannot_write(path: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and not path.is_dir():
        reason = "a part of its directory is a file"
    return "cannot write %s (%s): name a file in a directory you can write to" % (path, reason)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
