"""The MongoDB store's indexes, and the migration of a store made by an
earlier release, both done at open.

A store made before there were sources other than the channel feed holds
feed appearances without ``source_kind``/``source_value`` under a unique
index on (run_id, channel, page, position), and notes without ``sources``.
:func:`migrate` gives those appearances kind "channel" and their channel as
value, fills each note's ``sources`` from its channels, and replaces the old
unique index by the one on the new key. Every step may run again, or in two
processes at once: an update matches only records still to migrate, and
adds rather than sets. Stores made before comments gain their collections'
indexes; their notes read the comment fields as null until a paging sets them.

Once done, the store says so: a ``meta`` document ``{"_id": "schema",
"version": SCHEMA_VERSION}``. A store at that version (or a later one) is
not migrated again, so opening it reads one document rather than every note.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

from xhs_spider.store.base import (
    APPEARANCE_KEY,
    CHANNEL,
    COMMENT_METRIC_KEY,
    PAGE_KEY,
    RAW_ANSWER_KEY,
    SOURCE_PAGE_KEY,
    source_name,
)
from xhs_spider.store.mongo_requests import all_of

#: (collection, keys, unique)
INDEXES: tuple[tuple[str, list[tuple[str, Any]], bool], ...] = (
    ("notes", [("status", ASCENDING), ("detail_fetched_at", ASCENDING)], False),
    ("feed_appearances", [(name, ASCENDING) for name in APPEARANCE_KEY], True),
    ("feed_appearances", [("note_id", ASCENDING)], False),
    ("note_metrics", [("note_id", ASCENDING), ("fetched_at", ASCENDING)], True),
    ("feed_pages", [(name, ASCENDING) for name in PAGE_KEY], True),
    ("claims", [("run_id", ASCENDING)], False),
    ("source_pages", [(name, ASCENDING) for name in SOURCE_PAGE_KEY], True),
    ("raw_answers", [(name, ASCENDING) for name in RAW_ANSWER_KEY], True),
    ("comments", [("note_id", ASCENDING), ("comment_id", ASCENDING)], False),  # the export's order
    ("comment_metrics", [(name, ASCENDING) for name in COMMENT_METRIC_KEY], True),
    ("comment_claims", [("run_id", ASCENDING)], False),
)
#: The store's shape this release makes: 1, the comments (issue 20).
SCHEMA_VERSION = 1
#: Where the store keeps its :data:`SCHEMA_VERSION`.
META = "meta"
SCHEMA_MARKER = {"_id": "schema"}
#: The key of feed appearances before other sources: its unique index goes.
OLD_APPEARANCE_KEY = [("run_id", ASCENDING), ("channel", ASCENDING), ("page", ASCENDING), ("position", ASCENDING)]
#: Notes migrated per bulk write.
MIGRATION_CHUNK = 1000


def migrate(database: Database) -> None:
    """Bring *database* up to date (see the module docstring), make sure
    every index exists, and mark it done; nothing but the mark is read when
    it was done before."""
    if schema_version(database) >= SCHEMA_VERSION:
        return
    _drop_old_appearance_key(database)
    _give_feed_appearances_their_channel(database)
    _give_notes_their_sources(database)
    for collection, keys, unique in INDEXES:
        database[collection].create_index(keys, unique=unique)
    # $max: a later release's mark stays.
    database[META].update_one(SCHEMA_MARKER, {"$max": {"version": SCHEMA_VERSION}}, upsert=True)


def schema_version(database: Database) -> int:
    """The version the store says it was migrated to; 0 if it says none."""
    document = database[META].find_one(SCHEMA_MARKER)
    version = None if document is None else document.get("version")
    return version if isinstance(version, int) else 0


def _drop_old_appearance_key(database: Database) -> None:
    # First: with it, appearances of two keywords at the same place (no
    # channel) would collide.
    for name, index in database.feed_appearances.index_information().items():
        if [(field, int(order)) for field, order in index.get("key", [])] == OLD_APPEARANCE_KEY:
            database.feed_appearances.drop_index(name)


def _give_feed_appearances_their_channel(database: Database) -> None:
    appearances = database.feed_appearances
    unmigrated = {"source_kind": {"$exists": False}}
    for channel in appearances.distinct("channel", unmigrated):
        appearances.update_many(
            all_of(unmigrated, {"channel": channel}),
            {"$set": {"source_kind": CHANNEL, "source_value": channel}},
        )


def _give_notes_their_sources(database: Database) -> None:
    notes = database.notes
    unmigrated = {"sources": {"$exists": False}}
    requests: list[UpdateOne] = []
    for document in notes.find(unmigrated, {"_id": 1, "channels": 1}):
        sources = sorted(source_name(CHANNEL, channel) for channel in document.get("channels") or [])
        this_note = {"_id": document["_id"]}
        # The array first (nx-27017 adds to no missing array), then the
        # channels added to it, not set: a crawl may be adding sources meanwhile.
        requests.append(UpdateOne(all_of(this_note, unmigrated), {"$set": {"sources": []}}))
        if sources:
            requests.append(UpdateOne(this_note, {"$addToSet": {"sources": {"$each": sources}}}))
        if len(requests) >= MIGRATION_CHUNK:
            notes.bulk_write(requests, ordered=True)
            requests = []
    if requests:
        notes.bulk_write(requests, ordered=True)
