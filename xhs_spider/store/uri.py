"""Which store a URI names: SQLite (the default) or MongoDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xhs_spider.config.declarations import DEFAULT_STORE_PATH, STORE_URI
from xhs_spider.store.mongo import MongoNoteStore
from xhs_spider.store.sqlite import SqliteNoteStore

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from xhs_spider.store.base import NoteStore

SQLITE_PREFIX = "sqlite://"
MONGO_SCHEMES = ("mongodb", "mongodb+srv")


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
        return SqliteNoteStore(path)
    if scheme in MONGO_SCHEMES:
        return MongoNoteStore(uri)
    # Only the scheme is echoed: the rest may hold a password.
    raise ValueError(
        "unsupported store URI scheme %r; expected sqlite:///path/to/file.sqlite3 "
        "or mongodb://host:port/dbname" % (scheme or "(none)")
    )
