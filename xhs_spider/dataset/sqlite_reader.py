"""The dataset read from an SQLite store, streamed in chunks of rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator
from pathlib import Path

from xhs_spider.dataset.columns import COMMENT_METRIC_COLUMNS
from xhs_spider.dataset.query import CHANNEL, COLLECTIONS, Query, with_source
from xhs_spider.store import sqlite_schema as sql
from xhs_spider.store.base import run_sort_key

#: Rows fetched at a time: memory stays flat whatever the store's size.
CHUNK_SIZE = 1000
#: Seconds to wait while a crawl holds the write lock.
BUSY_TIMEOUT = 30.0
_IN_JSON_LIST = "EXISTS (SELECT 1 FROM json_each(notes.%s) WHERE value IN (%s))"
#: An appearance's source; a store made before there were other sources has
#: no such columns (:func:`with_source` reads it as its channel's).
_APPEARANCE_SOURCE = "COALESCE(source_kind, 'channel'), COALESCE(source_value, channel)"


class NoStore(Exception):
    """The store named holds no dataset (no such file, no such database)."""


class StoreUnreadable(Exception):
    """The store is there but could not be read (unreachable, locked, damaged
    while read): not bad input, the message names the store by its masked URI."""


class SqliteDataset:
    def __init__(self, path: Path, display_uri: str) -> None:
        self.path, self.display_uri = path, display_uri
        self._connection: sqlite3.Connection | None = None
        #: The columns of the tables whose shape changed with the sources.
        self._columns: dict[str, set[str]] = {}

    def open(self) -> None:
        if not self.path.is_file():
            raise NoStore("no store at %s (nothing crawled there yet?)" % self.display_uri)
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            self._columns = {table: {row[1] for row in connection.execute(
                "PRAGMA table_info(%s)" % table)} for table in (
                    "notes", "feed_appearances", "creators", "comments", "comment_metrics")}
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
            filters = self._window(query) + self._of_notes(query, "%s")
            if query.statuses is not None:
                filters.append(("status IN (%s)" % _marks(query.statuses), sorted(query.statuses)))
            rows = self._rows("SELECT %s FROM notes" % self._note_columns(), filters, "note_id")
            return (sql.note_state(row).to_record() for row in rows)
        if query.collection == "appearances":
            rows = self._rows("SELECT record FROM feed_appearances",
                              self._window(query) + self._of_appearances(query), self._appearance_order())
            return (with_source(json.loads(row[0])) for row in rows)
        if query.collection == "metrics":
            columns = sql.METRIC_COLUMNS
            rows = self._rows("SELECT %s FROM note_metrics" % ", ".join(columns),
                              self._window(query) + self._of_notes(
                                  query, "note_id IN (SELECT note_id FROM notes WHERE %s)"),
                              "note_id, fetched_at")
            return (dict(zip(columns, row, strict=True)) for row in rows)
        if query.collection == "creators":
            return self._creators(query)
        if query.collection in ("comments", "comment_metrics"):
            return self._comments(query)
        return iter(self._runs(query))

    def _comments(self, query: Query) -> Iterator[dict]:
        """Comments (the newest state of each) or their like-count snapshots,
        of the notes found under *query*'s sources; none in a store made
        before there were comments."""
        table = COLLECTIONS[query.collection]
        if not self._columns.get(table):
            return iter(())
        filters = self._window(query) + self._of_notes(
            query, "note_id IN (SELECT note_id FROM notes WHERE %s)")
        if query.collection == "comments":
            rows = self._rows("SELECT record FROM comments", filters, "note_id, comment_id")
            return (json.loads(row[0]) for row in rows)
        names = [column.name for column in COMMENT_METRIC_COLUMNS]
        rows = self._rows("SELECT %s FROM comment_metrics" % ", ".join(names), filters, "comment_id, fetched_at")
        return (dict(zip(names, row, strict=True)) for row in rows)

    def _creators(self, query: Query) -> Iterator[dict]:
        if not self._columns.get("creators"):  # a store made before there were creators
            return iter(())
        users = sorted(query.of_kind("user"))
        filters = self._window(query) + (
            [] if query.sources is None else [("user_id IN (%s)" % _marks(users), users)])
        return (json.loads(row[0]) for row in self._rows("SELECT record FROM creators", filters, "user_id"))

    def _note_columns(self) -> str:
        """The note columns the store module reads, NULL for those a store
        made by an earlier release lacks (a crawl adds them; reading does not)."""
        names = [name.strip() for name in sql.NOTE_COLUMNS.split(",")]
        return ", ".join(name if name in self._columns["notes"] else "NULL AS %s" % name
                         for name in names)

    @staticmethod
    def _window(query: Query) -> list[tuple[str, list]]:
        return [] if query.since is None else [("%s >= ?" % query.time_field, [query.since])]

    def _of_notes(self, query: Query, template: str) -> list[tuple[str, list]]:
        """The condition (in *template*'s %s) on notes seen under one of *query*'s sources."""
        if query.sources is None:
            return []
        conditions, values = [], []
        channels = sorted(query.of_kind(CHANNEL))
        if channels:
            conditions.append(_IN_JSON_LIST % ("channels", _marks(channels)))
            values += channels
        others = [name for name in query.source_names if not name.startswith(CHANNEL + ":")]
        if others and "sources" in self._columns["notes"]:
            conditions.append(_IN_JSON_LIST % ("sources", _marks(others)))
            values += others
        return [(template % ("(%s)" % " OR ".join(conditions) if conditions else "0"), values)]

    def _of_appearances(self, query: Query) -> list[tuple[str, list]]:
        if query.sources is None:
            return []
        if "source_kind" in self._columns["feed_appearances"]:
            pairs = sorted(query.sources)
            return [("(%s) IN (VALUES %s)" % (_APPEARANCE_SOURCE, ", ".join(["(?, ?)"] * len(pairs))),
                     [value for pair in pairs for value in pair])]
        channels = sorted(query.of_kind(CHANNEL))  # an unmigrated store: channels only
        return [("channel IN (%s)" % _marks(channels), channels) if channels else ("0", [])]

    def _appearance_order(self) -> str:
        if "source_kind" in self._columns["feed_appearances"]:
            return "run_id, %s, page, position" % _APPEARANCE_SOURCE
        return "run_id, channel, page, position"

    def _rows(self, select: str, filters: list[tuple[str, list]], order: str) -> Iterator[tuple]:
        assert self._connection is not None, "open() first"
        where = " AND ".join(condition for condition, _ in filters)
        statement = "%s%s ORDER BY %s" % (select, " WHERE " + where if where else "", order)
        cursor = self._connection.execute(statement, [v for _, values in filters for v in values])
        while chunk := cursor.fetchmany(CHUNK_SIZE):
            yield from chunk

    def _runs(self, query: Query) -> list[dict]:
        # One record per crawl: few enough to sort in memory.
        others = query.beyond_channels()
        found = None if others is None else {row[0] for row in self._rows(
            "SELECT DISTINCT run_id FROM feed_appearances", self._of_appearances(others), "run_id")}
        rows = self._rows("SELECT record FROM runs", [], "run_id")
        return sorted(
            (record for record in (json.loads(row[0]) for row in rows)
             if run_matches(record, query, found)),
            key=run_sort_key,
        )


def run_matches(record: dict, query: Query, found: Collection[str] | None = None) -> bool:
    """Whether a run record is in *query*'s window and crawled one of its
    sources: one of its channels, or *found* (the runs with an appearance
    under one of its other sources) holds it."""
    if query.since is not None and str(record.get("started_at") or "") < query.since:
        return False
    if query.sources is None:
        return True
    crawled = (record.get("summary") or {}).get("channels") or {}
    return bool(query.of_kind(CHANNEL).intersection(crawled)) or record.get("run_id") in (found or ())


def _marks(values: Collection[str]) -> str:
    return ", ".join("?" * len(values))
