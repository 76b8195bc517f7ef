"""Where the crawl keeps what it saw: SQLite (default) or MongoDB.

``open_store(uri)`` picks the backend from the URI (:mod:`.uri`); see
:mod:`.base` for the data model. ``session`` (its worker threads and the
batch writer), ``journal`` and ``spill`` get batches into it off the reactor
thread.
"""

from __future__ import annotations

from xhs_spider.store.base import NoteStore, StoreUnavailable
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.mongo import MongoNoteStore
from xhs_spider.store.sqlite import SqliteNoteStore
from xhs_spider.store.uri import open_store, store_from_settings

__all__ = [
    "MongoNoteStore", "NoteStore", "SqliteNoteStore", "StoreUnavailable", "WriteBatch",
    "open_store", "store_from_settings",
]
