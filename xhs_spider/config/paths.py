"""Whether the crawl can write where its settings say, asked before it starts.

The stats file is written when the crawl ends, and the spill directory holds
the run's journal and what the store could not take: a path found unwritable
only then costs a paid crawl its stats, or its safety net. Both are tried
for real (as root, permission bits say nothing): a missing directory is
created, and a probe file is made in it and removed; an existing stats file
is opened for appending, which leaves it as it was.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def file_problem(setting: str, path: str | os.PathLike[str]) -> str | None:
    """Why the file *path* cannot be written, as one line naming *setting*."""
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
        if target.exists():
            with target.open("a"):
                pass
            return None
    except OSError as exc:
        return _unwritable(setting, target, exc)
    return directory_problem(setting, target.parent, file=target)


def directory_problem(setting: str, path: str | os.PathLike[str], *,
                      file: Path | None = None) -> str | None:
    """Why no file can be written in the directory *path* (created if missing)."""
    directory = Path(path)
    try:
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{directory} is not a directory")
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".xhs-write-check-"):
            pass
    except OSError as exc:
        return _unwritable(setting, file or directory, exc)
    return None


def _unwritable(setting: str, path: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return f"Setting {setting}={str(path)!r}: cannot write there ({reason}); choose a writable path."
