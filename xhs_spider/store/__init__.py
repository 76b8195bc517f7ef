"""Where the crawl keeps what it saw: SQLite (default) or MongoDB.

``open_store(uri)`` picks the backend from the URI; see
:mod:`xhs_spider.store.base` for the data model.
"""

from __future__ import annotations

from xhs_spider.store.base import NoteStore, StoreUnavailable, WriteBatch
from xhs_spider.store.mongo import MongoNoteStore
from xhs_spider.store.sqlite import SqliteNoteStore

__all__ = [
    "MongoNoteStore", "NoteStore", "SqliteNoteStore", "StoreUnavailable", "WriteBatch", "open_store",
]

SQLITE_PREFIX = "sqlite://"
MONGO_SCHEMES = ("mongodb", "mongodb+srv")


def open_store(uri: str | None, *, default_path: str = "data/xhs.sqlite3") -> NoteStore:
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
