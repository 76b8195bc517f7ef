"""What several commands share. Functions only: a ScrapyCommand here would become a command."""

from __future__ import annotations

import os
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
    whole; of two commands writing *path* at once, the last to end wins.

    The file is made before the block runs, so an unusable *path* (a
    directory, a parent that is a file, no right to write there) is
    :class:`OutputUnusable` before anything is read.
    """
    partial = _temporary_beside(path)
    try:
        yield partial
        partial.chmod(0o666 & ~_umask())  # as a plain open() would have made it
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OutputUnusable(_cannot_write(path, exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


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
