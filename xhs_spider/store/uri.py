"""Which store a URI names: SQLite (the default) or MongoDB."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from xhs_spider.config.declarations import DEFAULT_STORE_PATH, STORE_URI
from xhs_spider.store.mongo import MongoNoteStore
from xhs_spider.store.sqlite import SqliteNoteStore

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from xhs_spider.store.base import NoteStore

SQLITE_PREFIX = "sqlite://"
MONGO_SCHEMES = ("mongodb", "mongodb+srv")
#: The first bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def store_from_settings(settings: BaseSettings) -> NoteStore:
    """The store XHS_STORE_URI names, not yet opened; ``ValueError`` naming
    the setting if it names none."""
    try:
        return open_store(STORE_URI.get(settings))
    except ValueError as exc:
        raise ValueError(f"Setting XHS_STORE_URI: {exc}") from exc


def open_store(uri: str | None, *, default_path: str = DEFAULT_STORE_PATH) -> NoteStore:
    """The store that ``uri`` names, not yet opened.

    No URI: SQLite at ``default_path``. ``sqlite:///abs/file.sqlite3`` (or
    ``sqlite://relative/file.sqlite3``): SQLite at that path.
    ``mongodb://host:port/dbname``: that MongoDB database.
    """
    if not uri:
        return SqliteNoteStore(default_path)
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme == "sqlite":
        path = uri[len(SQLITE_PREFIX):]
        if path.startswith("//"):  # sqlite:////abs/path: one root is enough
            path = "/" + path.lstrip("/")
        if not path:
            raise ValueError(
                "store URI %r names no file; expected sqlite:///path/to/file.sqlite3" % uri
            )
        _check_sqlite_file(Path(path))
        return SqliteNoteStore(path)
    if scheme in MONGO_SCHEMES:
        return MongoNoteStore(uri)
    # Only the scheme is echoed: the rest may hold a password.
    raise ValueError(
        "unsupported store URI scheme %r; expected sqlite:///path/to/file.sqlite3 "
        "or mongodb://host:port/dbname" % (scheme or "(none)")
    )


def _check_sqlite_file(path: Path) -> None:
    """``ValueError`` if *path* holds something other than an SQLite database.

    A missing or empty file becomes a new store; anything else (a CSV file, a
    spill file, a directory) would otherwise surface as a traceback when the
    store opens, or as a store that does not answer.
    """
    if path.is_dir():
        raise ValueError("%s is a directory; name an SQLite file, e.g. sqlite://%s" % (
            path, path / "xhs.sqlite3"))
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError:
        return  # missing (created on open), or unreadable: open() says why
    if header and header != SQLITE_HEADER:
        raise ValueError(
            "%s is not an SQLite database; name an SQLite file, or a path where "
            "none exists yet (a new store)." % path
        )
