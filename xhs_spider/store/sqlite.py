"""The note store in one SQLite file: the default, nothing to install."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.base import (
    COUNTERS,
    NoteState,
    NoteStore,
    StoreUnavailable,
    appearance_record,
    check_collection,
    metric_snapshot,
    note_states,
    run_sort_key,
)

#: Seconds to wait for another process's write lock (a reader exporting data).
BUSY_TIMEOUT = 10.0
#: SQLite allows 999 bound variables in old builds; stay well below.
IN_CHUNK_SIZE = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    note_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    detail_fetched_at TEXT,
    unavailable_at TEXT,
    channels TEXT NOT NULL,  -- JSON array, sorted
    detail TEXT              -- JSON object: the newest detail's fields
);
CREATE INDEX IF NOT EXISTS notes_by_status_detail_fetched_at
    ON notes (status, detail_fetched_at);

CREATE TABLE IF NOT EXISTS feed_appearances (
    run_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    page INTEGER NOT NULL,
    position INTEGER NOT NULL,
    note_id TEXT NOT NULL,
    crawled_at TEXT NOT NULL,
    record TEXT NOT NULL,  -- JSON object: the whole appearance, run_id included
    PRIMARY KEY (run_id, channel, page, position)
);
CREATE INDEX IF NOT EXISTS feed_appearances_by_note_id ON feed_appearances (note_id);

CREATE TABLE IF NOT EXISTS note_metrics (
    note_id TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    run_id TEXT NOT NULL,
    likes INTEGER,
    collects INTEGER,
    comments INTEGER,
    shares INTEGER,
    reads INTEGER,
    impressions INTEGER,
    follows INTEGER,
    PRIMARY KEY (note_id, fetched_at)
);

CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    record TEXT NOT NULL  -- JSON object
);
"""

NOTE_COLUMNS = (
    "note_id, status, first_seen_at, last_seen_at, detail_fetched_at, unavailable_at, channels, detail"
)
REPLACE_NOTE = "INSERT OR REPLACE INTO notes (%s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" % NOTE_COLUMNS
UPSERT_APPEARANCE = """
INSERT INTO feed_appearances (run_id, channel, page, position, note_id, crawled_at, record)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, channel, page, position) DO UPDATE SET
    note_id = excluded.note_id, crawled_at = excluded.crawled_at, record = excluded.record
"""
METRIC_COLUMNS = ("note_id", "fetched_at", "run_id", *COUNTERS)
# The first snapshot of a fetch stays: a replay carries the same counters.
INSERT_METRIC = "INSERT INTO note_metrics (%s) VALUES (%s) ON CONFLICT DO NOTHING" % (
    ", ".join(METRIC_COLUMNS), ", ".join("?" * len(METRIC_COLUMNS)),
)
REPLACE_RUN = "INSERT OR REPLACE INTO runs (run_id, record) VALUES (?, ?)"


class SqliteNoteStore(NoteStore):
    """The store in the SQLite file at ``path``, in WAL mode, one connection.

    The connection is made in :meth:`open` and may be used from another
    thread than the one that opened it, one thread at a time.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.display_uri = "sqlite://%s" % self.path
        self._connection: sqlite3.Connection | None = None

    def open(self) -> None:
        if self._connection is not None:
            return
        with _unavailable_on_error("cannot open %s" % self.display_uri):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are begun and ended explicitly.
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False,
            )
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.executescript(SCHEMA)
            except BaseException:
                connection.close()
                raise
        self._connection = connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def write(self, batch: WriteBatch) -> None:
        with self._transaction() as connection:
            connection.executemany(UPSERT_APPEARANCE, _appearance_rows(batch))
            self._merge_notes(connection, batch)
            connection.executemany(INSERT_METRIC, _metric_rows(batch))
            self._merge_runs(connection, batch.runs)

    def _merge_notes(self, connection: sqlite3.Connection, batch: WriteBatch) -> None:
        states = note_states(batch)
        for stored in self._stored_states(connection, list(states)):
            stored.merge(states[stored.note_id])
            states[stored.note_id] = stored
        connection.executemany(REPLACE_NOTE, (_note_row(state) for state in states.values()))

    def _stored_states(
        self, connection: sqlite3.Connection, note_ids: Sequence[str],
    ) -> Iterator[NoteState]:
        for chunk in _chunks(note_ids):
            query = "SELECT %s FROM notes WHERE note_id IN (%s)" % (
                NOTE_COLUMNS, _placeholders(chunk),
            )
            for row in connection.execute(query, chunk):
                yield _note_state(row)

    def _merge_runs(self, connection: sqlite3.Connection, runs: list[dict]) -> None:
        if not runs:
            return
        run_ids = list({run["run_id"] for run in runs})
        merged: dict[str, dict] = {}
        for chunk in _chunks(run_ids):
            query = "SELECT run_id, record FROM runs WHERE run_id IN (%s)" % _placeholders(chunk)
            for run_id, record in connection.execute(query, chunk):
                merged[run_id] = json.loads(record)
        for run in runs:
            merged.setdefault(run["run_id"], {}).update(run)
        connection.executemany(REPLACE_RUN, [(run_id, _json(record)) for run_id, record in merged.items()])

    def fetch_times(self, note_ids: Collection[str]) -> dict[str, str]:
        times: dict[str, str] = {}
        with self._reading() as connection:
            for chunk in _chunks(list(note_ids)):
                query = (
                    "SELECT note_id, MAX(COALESCE(detail_fetched_at, ''), COALESCE(unavailable_at, ''))"
                    " FROM notes WHERE note_id IN (%s)"
                    " AND (detail_fetched_at IS NOT NULL OR unavailable_at IS NOT NULL)"
                    % _placeholders(chunk)
                )
                times.update(connection.execute(query, chunk).fetchall())
        return times

    def stale_note_ids(self, before: str, limit: int | None = None) -> list[str]:
        query = (
            "SELECT note_id FROM notes WHERE status = 'ok' AND detail_fetched_at < ?"
            " ORDER BY detail_fetched_at, note_id LIMIT ?"
        )
        with self._reading() as connection:
            rows = connection.execute(query, (before, -1 if limit is None else limit)).fetchall()
        return [row[0] for row in rows]

    def get_note(self, note_id: str) -> dict | None:
        with self._reading() as connection:
            query = "SELECT %s FROM notes WHERE note_id = ?" % NOTE_COLUMNS
            row = connection.execute(query, (note_id,)).fetchone()
        return None if row is None else _note_state(row).to_record()

    def iter_notes(self) -> Iterator[dict]:
        with self._reading() as connection:
            for row in connection.execute("SELECT %s FROM notes ORDER BY note_id" % NOTE_COLUMNS):
                yield _note_state(row).to_record()

    def count(self, collection: str) -> int:
        check_collection(collection)
        with self._reading() as connection:
            return connection.execute("SELECT count(*) FROM %s" % collection).fetchone()[0]

    def find_runs(self) -> list[dict]:
        with self._reading() as connection:
            records = [json.loads(row[0]) for row in connection.execute("SELECT record FROM runs")]
        return sorted(records, key=run_sort_key)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with _unavailable_on_error("cannot read %s" % self.display_uri):
            yield self._require_connection()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._require_connection()
        with _unavailable_on_error("cannot write %s" % self.display_uri):
            # IMMEDIATE: take the write lock before reading the records to merge.
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.rollback()
                raise
            connection.execute("COMMIT")

    def _require_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("%r is not open" % self)
        return self._connection


@contextmanager
def _unavailable_on_error(what: str) -> Iterator[None]:
    # OperationalError covers a locked, unreadable, full or vanished file:
    # conditions a later retry, or a spill file, can outlast.
    try:
        yield
    except (sqlite3.OperationalError, OSError) as exc:
        raise StoreUnavailable("%s: %s" % (what, exc)) from exc


def _appearance_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.appearances:
        record = appearance_record(item, batch.run_id)
        yield (
            record["run_id"], record["channel"], record["page"], record["position"],
            record["note_id"], record["crawled_at"], _json(record),
        )


def _metric_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.notes:
        snapshot = metric_snapshot(item, batch.run_id)
        yield tuple(snapshot[column] for column in METRIC_COLUMNS)


def _note_row(state: NoteState) -> tuple:
    return (
        state.note_id, state.status, state.first_seen_at, state.last_seen_at,
        state.detail_fetched_at, state.unavailable_at, _json(sorted(state.channels)),
        None if state.detail is None else _json(state.detail),
    )


def _note_state(row: sqlite3.Row | tuple) -> NoteState:
    # The status column is for queries; the state derives it.
    note_id, _, first_seen_at, last_seen_at, detail_fetched_at, unavailable_at, channels, detail = row
    return NoteState(
        note_id, first_seen_at, last_seen_at,
        channels=set(json.loads(channels)),
        detail_fetched_at=detail_fetched_at,
        detail=None if detail is None else json.loads(detail),
        unavailable_at=unavailable_at,
    )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    return (values[start:start + IN_CHUNK_SIZE] for start in range(0, len(values), IN_CHUNK_SIZE))


def _placeholders(values: Sequence[str]) -> str:
    return ", ".join("?" * len(values))
