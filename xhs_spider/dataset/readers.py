"""The dataset of the store that XHS_STORE_URI names, whichever backend it is."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from pymongo.errors import PyMongoError

from xhs_spider.dataset.mongo_reader import MongoDataset
from xhs_spider.dataset.sqlite_reader import SqliteDataset, StoreUnreadable
from xhs_spider.store.mongo import MongoNoteStore
from xhs_spider.store.sqlite import SqliteNoteStore
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from xhs_spider.dataset.query import Query

#: What a store's driver raises when reading fails (server gone, "database is locked").
STORE_ERRORS = (PyMongoError, sqlite3.DatabaseError)


class Dataset(Protocol):
    display_uri: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def records(self, query: Query) -> Iterator[dict]: ...


def dataset_from_settings(settings: BaseSettings) -> Dataset:
    """The read side of the store XHS_STORE_URI names (the crawl's rule), not
    yet opened; ``ValueError`` naming the setting if it names none."""
    store = store_from_settings(settings)
    if isinstance(store, SqliteNoteStore):
        return SqliteDataset(store.path, store.display_uri)
    if isinstance(store, MongoNoteStore):
        return MongoDataset(store.uri, store.database_name, store.display_uri)
    raise ValueError("Setting XHS_STORE_URI: %r cannot be read as a dataset" % store)


@contextmanager
def opened(dataset: Dataset) -> Iterator[Dataset]:
    """*dataset*, open; a driver's error while reading it (mid-stream too)
    becomes :class:`StoreUnreadable`, one line naming the masked URI."""
    dataset.open()
    try:
        yield dataset
    except STORE_ERRORS as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise StoreUnreadable("cannot read %s: %s" % (dataset.display_uri, first_line[:160])) from exc
    finally:
        dataset.close()
