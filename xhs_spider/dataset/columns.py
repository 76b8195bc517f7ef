"""Each exported collection's columns: fixed order, from the schemas, typed.

A column is a dotted path into a stored record (``counts.likes``,
``summary.api.billed``); under a list of objects it holds one value per
element (``images.url``). Columns never depend on which records a run
happens to export: every file of a collection has the same header.
:func:`flat_row` gives a record's value in each column, for every writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from xhs_spider.exporters import column_value, resolve_ref
from xhs_spider.items import AppearanceItem, CommentItem, CreatorItem, FeedAppearanceItem, NoteItem
from xhs_spider.store.base import COUNTERS

#: The kinds a value may have; anything else is written as text. A
#: timestamp is the store's ISO UTC text in CSV and JSON, a UTC time in Parquet.
INTEGER, NUMBER, BOOLEAN, TEXT, JSON = "integer", "number", "boolean", "text", "json"
TIMESTAMP = "timestamp"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    #: One value per element of a list (a list cell).
    repeated: bool = False


def flat_row(record: dict, columns: list[Column]) -> dict[str, Any]:
    """*record* as one value per column (a list for a repeated column)."""
    row = {}
    for column in columns:
        value = column_value(record, column.name)
        if column.kind == JSON and value is not None:
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        row[column.name] = value
    return row


def schema_columns(schema: dict) -> list[Column]:
    """The columns of records following *schema*, as the CSV exporter orders them."""
    return list(_columns(schema, schema, prefix="", repeated=False))


def _columns(root: dict, node: dict, *, prefix: str, repeated: bool) -> Iterator[Column]:
    for name, subschema in node.get("properties", {}).items():
        column, subschema = prefix + name, resolve_ref(root, subschema)
        items = subschema.get("items")
        if subschema.get("properties"):
            yield from _columns(root, subschema, prefix=column + ".", repeated=repeated)
        elif isinstance(items, dict):
            items = resolve_ref(root, items)
            if items.get("properties"):
                yield from _columns(root, items, prefix=column + ".", repeated=True)
            else:
                yield Column(column, _kind(items), repeated=True)
        else:
            yield Column(column, _kind(subschema), repeated=repeated)


def _kind(node: dict) -> str:
    enum = node.get("enum")
    if enum and all(isinstance(value, int) and not isinstance(value, bool) for value in enum):
        return INTEGER  # a comment's level: 1 or 2
    types = node.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    types.discard("null")
    for kind in (INTEGER, NUMBER, BOOLEAN):
        if types == {kind}:
            return kind
    if types == {"string"} and node.get("format") == "date-time":
        return TIMESTAMP
    return JSON if types & {"object", "array"} else TEXT


#: What the store keeps about a note besides its detail.
NOTE_BOOKKEEPING = [
    Column("note_id"), Column("status"), Column("first_seen_at", TIMESTAMP),
    Column("last_seen_at", TIMESTAMP), Column("detail_fetched_at", TIMESTAMP),
    Column("unavailable_at", TIMESTAMP), Column("failed_at", TIMESTAMP),
    Column("failed_reason"), Column("channels", repeated=True), Column("sources", repeated=True),
    Column("comments_fetched_at", TIMESTAMP), Column("comments_counter", INTEGER),
    Column("comments_stored", INTEGER),
]
RUN_COLUMNS = [
    Column("run_id"), Column("crawl_id"), Column("spider"), Column("started_at", TIMESTAMP),
    Column("finished_at", TIMESTAMP), Column("finish_reason"), Column("arguments", JSON),
    Column("summary.duration_seconds", NUMBER), Column("summary.channels", JSON),
    Column("summary.feed_pages", INTEGER), Column("summary.appearances", INTEGER),
    *(Column(f"summary.notes.{name}", INTEGER) for name in (
        "new", "refreshed", "skipped_fresh", "unavailable", "claimed_elsewhere", "stored")),
    Column("summary.notes.paid_without_note", JSON),
    Column("summary.dropped.invalid", INTEGER), Column("summary.dropped.duplicate", INTEGER),
    Column("summary.dropped.invalid_by_field", JSON),
    *(Column(f"summary.api.{name}", INTEGER) for name in (
        "requests", "billed", "retries", "give_ups", "rate_limit_events")),
    Column("summary.api.rate_limit_lowest", NUMBER),
    *(Column(f"summary.api.{name}", JSON) for name in (
        "by_code", "by_endpoint", "retry_reasons", "give_ups_by_reason", "endpoints_moved_to")),
    *(Column(f"summary.comments.{name}", INTEGER) for name in (
        "new", "updated", "stored", "notes", "notes_skipped_fresh", "notes_claimed_elsewhere")),
    *(Column(f"summary.comments.{pages}.{name}", INTEGER)
      for pages in ("pages", "reply_pages") for name in ("requests", "billed")),
    Column("summary.discovery", JSON),
]
#: A comment's like-count snapshots (note_id: the comment's note, for --source).
COMMENT_METRIC_COLUMNS = [
    Column("comment_id"), Column("note_id"), Column("fetched_at", TIMESTAMP), Column("run_id"),
    Column("likes", INTEGER),
]
METRIC_COLUMNS = [
    Column("note_id"), Column("fetched_at", TIMESTAMP), Column("run_id"),
    *(Column(name, INTEGER) for name in COUNTERS),
]


def appearance_columns() -> list[Column]:
    """The feed cards' columns (``channel``, ``position``…), then those only the
    other sources' appearances have (``source_kind``, ``source_value``,
    ``rank``…): one file holds both, a feed card's ``source_kind`` is "channel"."""
    columns = [Column("run_id"), *schema_columns(FeedAppearanceItem.jsonschema)]
    names = {column.name for column in columns}
    return columns + [column for column in schema_columns(AppearanceItem.jsonschema)
                      if column.name not in names]


def collection_columns(collection: str) -> list[Column]:
    """The columns of one of :data:`xhs_spider.dataset.query.COLLECTIONS`."""
    if collection == "notes":
        detail = schema_columns(NoteItem.jsonschema)
        return NOTE_BOOKKEEPING + [column for column in detail if column.name != "note_id"]
    if collection == "appearances":
        return appearance_columns()
    if collection == "metrics":
        return METRIC_COLUMNS
    if collection == "runs":
        return RUN_COLUMNS
    if collection == "creators":  # the newest profile of each, and the run that fetched it
        return [*schema_columns(CreatorItem.jsonschema), Column("run_id")]
    if collection == "comments":  # one row per comment, replies beside the comments they answer
        return [*schema_columns(CommentItem.jsonschema), Column("first_fetched_at", TIMESTAMP)]
    if collection == "comment_metrics":
        return COMMENT_METRIC_COLUMNS
    raise ValueError("unknown collection %r" % collection)
