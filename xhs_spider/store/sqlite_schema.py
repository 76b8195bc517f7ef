"""The SQLite store's tables, statements and row conversions.

Every value bound or written as JSON goes through
:func:`~xhs_spider.store.values.storable` first: a record with an odd value
(a lone surrogate, an integer beyond 64 bits, NaN) is stored, not refused.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator

from xhs_spider.store.base import (
    CHANNEL,
    COUNTERS,
    RAW_ANSWER_KEY,
    appearance_record,
    comment_metric,
    creator_record,
    metric_snapshot,
    raw_answer_record,
    source_name,
)
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
    source_kind TEXT NOT NULL,   -- channel, keyword, user, topic
    source_value TEXT NOT NULL,  -- the channel's oid, the keyword, the user or topic id
    page INTEGER NOT NULL,
    position INTEGER NOT NULL,
    channel TEXT,                -- the channel's oid for a feed card, else null
    note_id TEXT NOT NULL,
    crawled_at TEXT NOT NULL,
    record TEXT NOT NULL,  -- JSON object: the whole appearance, run_id included
    PRIMARY KEY (run_id, source_kind, source_value, page, position)
);
CREATE INDEX IF NOT EXISTS feed_appearances_by_note_id ON feed_appearances (note_id);
CREATE INDEX IF NOT EXISTS feed_appearances_by_source ON feed_appearances (source_kind, source_value);

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

CREATE TABLE IF NOT EXISTS source_pages (
    crawl_id TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source_value TEXT NOT NULL,
    page INTEGER NOT NULL,
    record TEXT NOT NULL,  -- JSON object: cursor, next_cursor, notes, new_notes, next, stop, at
    PRIMARY KEY (crawl_id, source_kind, source_value, page)
);

CREATE TABLE IF NOT EXISTS creators (
    user_id TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    record TEXT NOT NULL  -- JSON object: the newest profile, run_id included
);

CREATE TABLE IF NOT EXISTS raw_answers (
    run_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source_value TEXT NOT NULL,
    page INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    record TEXT NOT NULL,  -- JSON object: the raw answer item, run_id included
    PRIMARY KEY (run_id, endpoint, source_kind, source_value, page)
);

CREATE TABLE IF NOT EXISTS share_links (
    url TEXT PRIMARY KEY,
    resolved_url TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS comments (
    comment_id TEXT PRIMARY KEY,
    note_id TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    first_fetched_at TEXT NOT NULL,
    record TEXT NOT NULL  -- JSON object: the newest comment item, first_fetched_at included
);
CREATE INDEX IF NOT EXISTS comments_by_note_id ON comments (note_id);

CREATE TABLE IF NOT EXISTS comment_metrics (
    comment_id TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    note_id TEXT NOT NULL,
    likes INTEGER,
    run_id TEXT NOT NULL,
    PRIMARY KEY (comment_id, fetched_at)
);

CREATE TABLE IF NOT EXISTS comment_claims (
    note_id TEXT PRIMARY KEY,
    crawl_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comment_claims_by_run_id ON comment_claims (run_id);
"""

#: Every table of :data:`SCHEMA`.
TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))
#: Columns added since the first release: a store it made gains them at open.
ADDED_NOTE_COLUMNS = {
    "failed_at": "TEXT", "failed_reason": "TEXT", "sources": "TEXT",
    "comments_fetched_at": "TEXT", "comments_counter": "INTEGER", "comments_stored": "INTEGER",
}

NOTE_COLUMNS = (
    "note_id, status, first_seen_at, last_seen_at, detail_fetched_at, unavailable_at, "
    "channels, detail, failed_at, failed_reason, sources, "
    "comments_fetched_at, comments_counter, comments_stored"
)
#: What :func:`~xhs_spider.store.base.pick_comment_targets` reads of a note.
COMMENT_TARGET_COLUMNS = (
    "note_id, json_extract(detail, '$.counts.comments'), comments_fetched_at, comments_counter"
)
REPLACE_NOTE = "INSERT OR REPLACE INTO notes (%s) VALUES (%s)" % (
    NOTE_COLUMNS, ", ".join("?" * len(NOTE_COLUMNS.split(","))),
)
_NOTE_COLUMN_NAMES = [name.strip() for name in NOTE_COLUMNS.split(",")]
#: A note's columns with its detail left unread (NULL): what a batch that
#: brings no detail needs to merge into a stored note.
NOTE_COLUMNS_BUT_DETAIL = ", ".join("NULL" if name == "detail" else name for name in _NOTE_COLUMN_NAMES)
#: Every column but the detail, which a batch with no detail never changes:
#: a note seen again (a second source, a comment paging) is not re-encoded.
UPDATE_NOTE_BUT_DETAIL = "UPDATE notes SET %s WHERE note_id = ?" % ", ".join(
    "%s = ?" % name for name in _NOTE_COLUMN_NAMES if name not in ("note_id", "detail"))
UPSERT_APPEARANCE = """
INSERT INTO feed_appearances
    (run_id, source_kind, source_value, page, position, channel, note_id, crawled_at, record)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, source_kind, source_value, page, position) DO UPDATE SET
    channel = excluded.channel, note_id = excluded.note_id, crawled_at = excluded.crawled_at,
    record = excluded.record
"""
METRIC_COLUMNS = ("note_id", "fetched_at", "run_id", *COUNTERS)
# The first snapshot of a fetch stays: a replay carries the same counters.
INSERT_METRIC = "INSERT INTO note_metrics (%s) VALUES (%s) ON CONFLICT DO NOTHING" % (
    ", ".join(METRIC_COLUMNS), ", ".join("?" * len(METRIC_COLUMNS)),
)
REPLACE_RUN = "INSERT OR REPLACE INTO runs (run_id, record) VALUES (?, ?)"
REPLACE_PAGE = "INSERT OR REPLACE INTO feed_pages (crawl_id, channel, page, record) VALUES (?, ?, ?, ?)"
REPLACE_SOURCE_PAGE = (
    "INSERT OR REPLACE INTO source_pages (crawl_id, source_kind, source_value, page, record)"
    " VALUES (?, ?, ?, ?, ?)"
)
REPLACE_RAW_ANSWER = (
    "INSERT OR REPLACE INTO raw_answers"
    " (run_id, endpoint, source_kind, source_value, page, received_at, record) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# The newest stays; of two at the same time, the first written (a replay is the same).
UPSERT_CREATOR = """
INSERT INTO creators (user_id, fetched_at, record) VALUES (?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET fetched_at = excluded.fetched_at, record = excluded.record
WHERE excluded.fetched_at > creators.fetched_at
"""
UPSERT_SHARE_LINK = """
INSERT INTO share_links (url, resolved_url, at) VALUES (?, ?, ?)
ON CONFLICT (url) DO UPDATE SET resolved_url = excluded.resolved_url, at = excluded.at
WHERE excluded.at > share_links.at
"""
# The newest stays (of two at the same time, the first written); the first
# fetch time is the earliest ever seen, in its column and in the record.
UPSERT_COMMENT = """
INSERT INTO comments (comment_id, note_id, fetched_at, first_fetched_at, record) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (comment_id) DO UPDATE SET
    note_id = CASE WHEN excluded.fetched_at > comments.fetched_at
        THEN excluded.note_id ELSE comments.note_id END,
    record = json_set(
        CASE WHEN excluded.fetched_at > comments.fetched_at THEN excluded.record ELSE comments.record END,
        '$.first_fetched_at', MIN(comments.first_fetched_at, excluded.first_fetched_at)),
    fetched_at = MAX(comments.fetched_at, excluded.fetched_at),
    first_fetched_at = MIN(comments.first_fetched_at, excluded.first_fetched_at)
"""
COMMENT_METRIC_COLUMNS = ("comment_id", "fetched_at", "note_id", "likes", "run_id")
# As note_metrics: the first snapshot of a fetch stays.
INSERT_COMMENT_METRIC = "INSERT INTO comment_metrics (%s) VALUES (%s) ON CONFLICT DO NOTHING" % (
    ", ".join(COMMENT_METRIC_COLUMNS), ", ".join("?" * len(COMMENT_METRIC_COLUMNS)),
)
#: A lease in ``claims`` or ``comment_claims`` (the %s).
REPLACE_CLAIM = "INSERT OR REPLACE INTO %s (note_id, crawl_id, run_id, expires_at) VALUES (?, ?, ?, ?)"
FETCHED_AT = (
    "MAX(COALESCE(detail_fetched_at, ''), COALESCE(unavailable_at, ''), COALESCE(failed_at, ''))"
)


#: A store made before the other sources: its feed appearances, keyed by
#: channel, become the channel's (see :func:`migrate`).
OLD_APPEARANCES = "feed_appearances_by_channel"
COPY_OLD_APPEARANCES = """
INSERT OR IGNORE INTO feed_appearances
    (run_id, source_kind, source_value, page, position, channel, note_id, crawled_at, record)
SELECT run_id, 'channel', channel, page, position, channel, note_id, crawled_at,
    json_set(record, '$.source_kind', 'channel', '$.source_value', channel)
FROM %s
""" % OLD_APPEARANCES


def migrate(connection: sqlite3.Connection) -> None:
    """Create what is missing, and bring a store made by an earlier release
    up to date, in one transaction: another process opening the same store
    waits, then finds it done. Feed appearances get their source (kind
    "channel", value the channel) and the new key; notes gain the columns
    added since, ``sources`` filled from their channels."""
    if _up_to_date(connection):
        return  # no write lock taken: crawls opening the store never wait for another's batch
    connection.execute("BEGIN IMMEDIATE")
    try:
        old_appearances = _columns(connection, "feed_appearances")
        rekey = bool(old_appearances) and "source_kind" not in old_appearances
        if rekey:
            # Indexes keep their names when their table is renamed.
            connection.execute("DROP INDEX IF EXISTS feed_appearances_by_note_id")
            connection.execute("ALTER TABLE feed_appearances RENAME TO %s" % OLD_APPEARANCES)
        for statement in SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        if rekey:
            connection.execute(COPY_OLD_APPEARANCES)
            connection.execute("DROP TABLE %s" % OLD_APPEARANCES)
        _add_note_columns(connection)
    except BaseException:
        connection.rollback()
        raise
    connection.execute("COMMIT")


def _up_to_date(connection: sqlite3.Connection) -> bool:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return (
        set(TABLES) <= tables
        and "source_kind" in _columns(connection, "feed_appearances")
        and set(ADDED_NOTE_COLUMNS) <= _columns(connection, "notes")
    )


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute("PRAGMA table_info(%s)" % table)}


def _add_note_columns(connection: sqlite3.Connection) -> None:
    present = _columns(connection, "notes")
    for column, kind in ADDED_NOTE_COLUMNS.items():
        if column not in present:
            connection.execute("ALTER TABLE notes ADD COLUMN %s %s" % (column, kind))
    # Notes of the feed alone so far: their sources are their channels.
    rows = connection.execute("SELECT note_id, channels FROM notes WHERE sources IS NULL").fetchall()
    connection.executemany("UPDATE notes SET sources = ? WHERE note_id = ?", (
        (to_json(sorted(source_name(CHANNEL, channel) for channel in json.loads(channels))), note_id)
        for note_id, channels in rows
    ))


def appearance_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.all_appearances():
        record = storable(appearance_record(item, batch.run_id))
        channel = record["source_value"] if record["source_kind"] == CHANNEL else None
        yield (
            record["run_id"], record["source_kind"], record["source_value"], record["page"],
            record["position"], channel, record["note_id"], record["crawled_at"], to_json(record),
        )


def source_page_rows(batch: WriteBatch) -> Iterator[tuple]:
    for page in map(storable, batch.source_pages):
        yield (page["crawl_id"], page["source_kind"], page["source_value"], page["page"], to_json(page))


def creator_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.creators:
        record = storable(creator_record(item, batch.run_id))
        yield record["user_id"], record["fetched_at"], to_json(record)


def raw_answer_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.raw_answers:
        record = storable(raw_answer_record(item, batch.run_id))
        yield (*(record[name] for name in RAW_ANSWER_KEY), record["received_at"], to_json(record))


def share_link_rows(batch: WriteBatch) -> Iterator[tuple]:
    for link in map(storable, batch.share_links):
        yield link["url"], link["resolved_url"], link["at"]


def comment_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.comments:
        record = storable({**item, "first_fetched_at": item["fetched_at"]})
        yield record["comment_id"], record["note_id"], record["fetched_at"], record["fetched_at"], to_json(record)


def comment_metric_rows(batch: WriteBatch) -> Iterator[tuple]:
    for item in batch.comments:
        snapshot = storable(comment_metric(item, batch.run_id))
        snapshot["likes"] = storable_counter(snapshot["likes"])
        yield tuple(snapshot[column] for column in COMMENT_METRIC_COLUMNS)


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
        state.failed_at, state.failed_reason, to_json(sorted(state.sources)),
        state.comments_fetched_at, storable_counter(state.comments_counter),
        storable_counter(state.comments_stored),
    ))


def note_row_but_detail(state: NoteState) -> tuple:
    """The values of :data:`UPDATE_NOTE_BUT_DETAIL`: *state*'s row without
    its detail, its note id last."""
    row = dict(zip(_NOTE_COLUMN_NAMES, note_row(state), strict=True))
    note_id = row.pop("note_id")
    del row["detail"]
    return (*row.values(), note_id)


def note_state(row: sqlite3.Row | tuple) -> NoteState:
    # The status column is for queries; the state derives it.
    (note_id, _, first_seen_at, last_seen_at, detail_fetched_at, unavailable_at, channels,
     detail, failed_at, failed_reason, sources, comments_fetched_at, comments_counter, comments_stored) = row
    return NoteState(
        note_id, first_seen_at, last_seen_at,
        channels=set(json.loads(channels)),
        sources=set(json.loads(sources or "[]")),
        detail_fetched_at=detail_fetched_at,
        detail=None if detail is None else json.loads(detail),
        unavailable_at=unavailable_at,
        failed_at=failed_at,
        failed_reason=failed_reason,
        comments_fetched_at=comments_fetched_at,
        comments_counter=comments_counter,
        comments_stored=comments_stored,
    )


def to_json(value: object) -> str:
    """*value* as compact JSON, made storable if need be: any value is written."""
    return json_text(value)
