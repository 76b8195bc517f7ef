"""The SQLite store's tables, statements and row conversions.

Every value bound or written as JSON goes through
:func:`~xhs_spider.store.values.storable` first: a record with an odd value
(a lone surrogate, an integer beyond 64 bits, NaN) is stored, not refused.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from xhs_spider.store.base import COUNTERS, appearance_record, metric_snapshot
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.note_state import NoteState
from xhs_spider.store.values import json_text, storable, storable_counter

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

CREATE TABLE IF NOT EXISTS feed_pages (
    crawl_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    page INTEGER NOT NULL,
    record TEXT NOT NULL,  -- JSON object: cards, new_notes, next, at
    PRIMARY KEY (crawl_id, channel, page)
);

CREATE TABLE IF NOT EXISTS claims (
    note_id TEXT PRIMARY KEY,
    crawl_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_by_run_id ON claims (run_id);
"""

#: Columns added since the first release: a store it made gains them at open.
ADDED_NOTE_COLUMNS = {"failed_at": "TEXT", "failed_reason": "TEXT"}

NOTE_COLUMNS = (
    "note_id, status, first_seen_at, last_seen_at, detail_fetched_at, unavailable_at, "
    "channels, detail, failed_at, failed_reason"
)
REPLACE_NOTE = "INSERT OR REPLACE INTO notes (%s) VALUES (%s)" % (
    NOTE_COLUMNS, ", ".join("?" * len(NOTE_COLUMNS.split(","))),
)
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
REPLACE_PAGE = "INSERT OR REPLACE INTO feed_pages (crawl_id, channel, page, record) VALUES (?, ?, ?, ?)"
REPLACE_CLAIM = "INSERT OR REPLACE INTO claims (note_id, crawl_id, run_id, expires_at) VALUES (?, ?, ?, ?)"
FETCHED_AT = (
    "MAX(COALESCE(detail_fetched_at, ''), COALESCE(unavailable_at, ''), COALESCE(failed_at, ''))"
)


def migrate(connection: sqlite3.Connection) -> None:
    connection.executescript(SCHEMA)
    present = {row[1] for row in connection.execute("PRAGMA table_info(notes)")}
    for column, kind in ADDED_NOTE_COLUMNS.items():
        if column not in present:
            connection.execute("ALTER TABLE notes ADD COLUMN %s %s" % (column, kind))


def appearance_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.appearances:
        record = storable(appearance_record(item, batch.run_id))
        yield (
            record["run_id"], record["channel"], record["page"], record["position"],
            record["note_id"], record["crawled_at"], to_json(record),
        )


def metric_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.notes:
        snapshot = metric_snapshot(item, batch.run_id)
        # INTEGER columns: a counter beyond 64 bits is null there (the
        # note's detail keeps whatever the item carried, made storable).
        yield tuple(
            storable_counter(snapshot[column]) if column in COUNTERS else storable(snapshot[column])
            for column in METRIC_COLUMNS
        )


def page_rows(batch: WriteBatch) -> Iterator[tuple]:
    for page in map(storable, batch.pages):
        yield page["crawl_id"], page["channel"], page["page"], to_json(page)


def note_row(state: NoteState) -> tuple:
    return storable((
        state.note_id, state.status, state.first_seen_at, state.last_seen_at,
        state.detail_fetched_at, state.unavailable_at, to_json(sorted(state.channels)),
        None if state.detail is None else to_json(state.detail),
        state.failed_at, state.failed_reason,
    ))


def note_state(row: sqlite3.Row | tuple) -> NoteState:
    # The status column is for queries; the state derives it.
    (note_id, _, first_seen_at, last_seen_at, detail_fetched_at, unavailable_at, channels,
     detail, failed_at, failed_reason) = row
    return NoteState(
        note_id, first_seen_at, last_seen_at,
        channels=set(json.loads(channels)),
        detail_fetched_at=detail_fetched_at,
        detail=None if detail is None else json.loads(detail),
        unavailable_at=unavailable_at,
        failed_at=failed_at,
        failed_reason=failed_reason,
    )


def to_json(value: object) -> str:
    """*value* as compact JSON, made storable if need be: any value is written."""
    return json_text(value)
