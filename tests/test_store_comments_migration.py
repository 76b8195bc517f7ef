"""A store made before comments, opened by this release: it gains the comment
collections, their indexes and the notes' comment fields in place (SQLite and
MongoDB; SQLite's tables and columns: test_store_migration); MongoDB marks itself migrated, and a store so marked is not
migrated again (its notes are not read at open)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymongo import MongoClient

from tests.comment_items import comment
from tests.mongo_server import MongoServer
from tests.source_items import found_note_id
from tests.test_store import build_store, mongo_server  # noqa: F401 (a fixture)
from tests.test_store_migration import (  # noqa: F401 (a fixture)
    OLD_NOTES,
    old_mongo_store,
    old_sqlite_store,
    old_store,
)
from xhs_spider.store import MongoNoteStore, NoteStore, WriteBatch
from xhs_spider.store.base import Lease
from xhs_spider.store.mongo_schema import SCHEMA_VERSION

T0 = "2026-11-20T10:00:00.000Z"
COMMENT_FIELDS = ("comments_fetched_at", "comments_counter", "comments_stored")


def test_an_old_store_takes_comments_and_says_which_notes_need_them(old_store: NoteStore) -> None:  # noqa: F811
    note = found_note_id(1)
    with old_store as store:
        before = [{name: record[name] for name in COMMENT_FIELDS} for record in store.iter_notes()]
        targets = store.comment_targets([note], since=None, sources=None, stale_before=T0, limit=None)
        store.write(WriteBatch("new-run", comments=[dict(comment(1, note_id=note))],
                               comments_done=[{"note_id": note, "at": T0, "counter": None, "comments": 1,
                                               "complete": True}]))
        record = store.get_note(note)
        stored = store.stored_comment_ids(note, ["c0001"])
        granted = store.claim_comments([note], Lease("crawl", "run", T0, "2026-11-21T00:00:00.000Z", None))

    assert before == [dict.fromkeys(COMMENT_FIELDS)] * len(OLD_NOTES)
    assert [target["note_id"] for target in targets] == [note]
    assert record is not None and (record["comments_fetched_at"], record["comments_stored"]) == (T0, 1)
    assert record["sources"]  # the earlier migration's work is there too
    assert stored == {"c0001"}
    assert granted == {note}


def test_an_old_mongodb_store_gains_the_indexes_and_the_mark(mongo_server: MongoServer) -> None:  # noqa: F811
    store = old_mongo_store(mongo_server)
    client: MongoClient[dict] = MongoClient(store.uri)
    with store, client:
        database = client[store.database_name]
        keys = {name: [list(index["key"]) for index in database[name].index_information().values()]
                for name in ("comments", "comment_metrics", "comment_claims")}
        mark = database.meta.find_one({"_id": "schema"})

    assert [("note_id", 1), ("comment_id", 1)] in keys["comments"]
    assert [("comment_id", 1), ("fetched_at", 1)] in keys["comment_metrics"]
    assert [("run_id", 1)] in keys["comment_claims"]
    assert mark == {"_id": "schema", "version": SCHEMA_VERSION}


def test_a_marked_mongodb_store_is_not_migrated_at_open(
    mongo_server: MongoServer, request: pytest.FixtureRequest, tmp_path: Path,  # noqa: F811
) -> None:
    store = build_store("mongo", request, tmp_path)
    assert isinstance(store, MongoNoteStore)
    with store:
        pass  # migrated and marked
    client: MongoClient[dict] = MongoClient(store.uri)
    with client:
        database = client[store.database_name]
        # A note as a store before the sources held it: a migration would give it its sources.
        database.notes.insert_one({"_id": "n1", "note_id": "n1", "status": "seen", "first_seen_at": T0,
                                   "last_seen_at": T0, "channels": ["homefeed_food_v3"]})
        with store:
            pass
        unread = database.notes.find_one({"_id": "n1"})
        database.meta.delete_one({"_id": "schema"})
        with store:
            pass
        migrated = database.notes.find_one({"_id": "n1"})

    assert unread is not None and "sources" not in unread
    assert migrated is not None and migrated["sources"] == ["channel:homefeed_food_v3"]
