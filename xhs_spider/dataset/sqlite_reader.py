"""The dataset read from an SQLite store, streamed in chunks of rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from xhs_spider.dataset.query import Query
from xhs_spider.store import sqlite_schema as sql
from xhs_spider.store.base import run_sort_key

#: Rows fetched at a time: memory stays flat whatever the store's size.
CHUNK_SIZE = 1000
#: Seconds to wait while a crawl holds the write lock.
BUSY_TIMEOUT = 30.0
_NOTE_CHANNELS = "EXISTS (SELECT 1 FROM json_each(notes.channels) WHERE value IN (%s))"
_METRIC_CHANNELS = "note_id IN (SELECT note_id FROM notes WHERE %s)" % _NOTE_CHANNELS


class NoStore(Exception):
    """The store named holds no dataset (no such file, no such database)."""


class StoreUnreadable(Exception):
    """The store is there but could not be read (unreachable, locked, damaged
    while read): not bad input, the message names the store by its masked URI."""


class SqliteDataset:
    def __init__(self, path: Path, display_uri: str) -> None:
        self.path, self.display_uri = path, display_uri
        self._connection: sqlite3.Connection | None = None

    def open(self) -> None:
        if not self.path.is_file():
            raise NoStore("no store at %s (nothing crawled there yet?)" % self.display_uri)
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        except sqlite3.OperationalError as exc:  # locked, unreadable
            raise StoreUnreadable("cannot read %s: %s" % (self.display_uri, exc)) from exc
        except sqlite3.DatabaseError as exc:  # not an SQLite file at all
            raise NoStore("cannot read %s: %s" % (self.display_uri, exc)) from exc
        if "notes" not in tables:
            connection.close()
            raise NoStore("%s is not a store of this project (no notes table)" % self.display_uri)
        self._connection = connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def records(self, query: Query) -> Iterator[dict]:
        """The records *query* selects, in a stable order, one chunk in memory at a time."""
        if query.collection == "notes":
            rows = self._rows("SELECT %s FROM notes" % sql.NOTE_COLUMNS, self._note_filters(query),
                              "note_id")
            return (sql.note_state(row).to_record() for row in rows)
        if query.collection == "appearances":
            rows = self._rows("SELECT record FROM feed_appearances", _filters(query, "channel IN (%s)"),
                              "run_id, channel, page, position")
            return (json.loads(row[0]) for row in rows)
        if query.collection == "metrics":
            columns = sql.METRIC_COLUMNS
            rows = self._rows("SELECT %s FROM note_metrics" % ", ".join(columns),
                              _filters(query, _METRIC_CHANNELS), "note_id, fetched_at")
            return (dict(zip(columns, row, strict=True)) for row in rows)
        return iter(self._runs(query))

    def _rows(self, select: str, filters: list[tuple[str, list]], order: str) -> Iterator[tuple]:
        assert self._connection is not None, "open() first"
        where = " AND ".join(condition for condition, _ in filters)
        statement = "%s%s ORDER BY %s" % (select, " WHERE " + where if where else "", order)
        cursor = self._connection.execute(statement, [v for _, values in filters for v in values])
        while chunk := cursor.fetchmany(CHUNK_SIZE):
            yield from chunk

    @staticmethod
    def _note_filters(query: Query) -> list[tuple[str, list]]:
        filters = _filters(query, _NOTE_CHANNELS)
        if query.statuses is not None:
            filters.append(("status IN (%s)" % _marks(query.statuses), sorted(query.statuses)))
        return filters

    def _runs(self, query: Query) -> list[dict]:
        # One record per crawl: few enough to sort in memory.
        rows = self._rows("SELECT record FROM runs", [], "run_id")
        return sorted(
            (record for record in (json.loads(row[0]) for row in rows) if run_matches(record, query)),
            key=run_sort_key,
        )


def run_matches(record: dict, query: Query) -> bool:
    """Whether a run record is in *query*'s window and crawled one of its channels."""
    if query.since is not None and str(record.get("started_at") or "") < query.since:
        return False
    if query.channels is None:
        return True
    crawled = (record.get("summary") or {}).get("channels") or {}
    return bool(query.channels.intersection(crawled))


def _filters(query: Query, in_channels: str) -> list[tuple[str, list]]:
    """*query*'s window, and *in_channels* (its %s, the channels' marks) when it names channels."""
    filters = [] if query.since is None else [("%s >= ?" % query.time_field, [query.since])]
    if query.channels is not None:
        filters.append((in_channels % _marks(query.channels), sorted(query.channels)))
    return filters


def _marks(values: frozenset[str]) -> str:
    return ", ".join("?" * len(values))
