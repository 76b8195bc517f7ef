"""A store made before the sources beyond the channel feed, opened by this
release: migrated in place (SQLite and MongoDB), its feed appearances the
channel's, its notes' sources their channels, nothing lost or doubled."""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from pymongo import ASCENDING, MongoClient

from tests.mongo_server import MongoServer
from tests.source_items import found_note_id, source_appearance
from tests.test_store import mongo_server, same_place  # noqa: F401 (a fixture)
from xhs_spider.store import MongoNoteStore, NoteStore, SqliteNoteStore, WriteBatch

FOOD, TRAVEL = "homefeed_food_v3", "homefeed_travel_v3"
T0, T1 = "2026-11-20T10:00:00.000Z", "2026-11-20T11:00:00.000Z"

#: The tables of a store the first release made (before failed_at, sources
#: and the other sources' key), as it created them.
OLD_DDL = """
CREATE TABLE notes (
    note_id TEXT PRIMARY KEY, status TEXT NOT NULL, first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL, detail_fetched_at TEXT, unavailable_at TEXT,
    channels TEXT NOT NULL, detail TEXT
);
CREATE INDEX notes_by_status_detail_fetched_at ON notes (status, detail_fetched_at);
CREATE TABLE feed_appearances (
    run_id TEXT NOT NULL, channel TEXT NOT NULL, page INTEGER NOT NULL, position INTEGER NOT NULL,
    note_id TEXT NOT NULL, crawled_at TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (run_id, channel, page, position)
);
CREATE INDEX feed_appearances_by_note_id ON feed_appearances (note_id);
"""


def old_card(number: int, channel: str, position: int) -> dict:
    """A feed appearance record as the old store held it: the item plus run_id."""
    return {
        "note_id": found_note_id(number), "channel": channel, "page": 1, "position": position,
        "crawled_at": T0, "title": "卡片 %d" % number, "type": "video", "likes": 3, "likes_text": None,
        "author": {"user_id": "u1", "nickname": None}, "run_id": "old-run",
    }


OLD_CARDS = [old_card(1, FOOD, 1), old_card(2, FOOD, 2), old_card(1, TRAVEL, 1)]
#: note 1: in two channels; note 2: in one; note 3: fetched by id, in none.
OLD_NOTES = {1: [FOOD, TRAVEL], 2: [FOOD], 3: []}


def old_sqlite_store(path: Path) -> SqliteNoteStore:
    path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executescript(OLD_DDL)
        connection.executemany("INSERT INTO feed_appearances VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (c["run_id"], c["channel"], c["page"], c["position"], c["note_id"], c["crawled_at"], json.dumps(c))
            for c in OLD_CARDS
        ])
        connection.executemany("INSERT INTO notes VALUES (?, 'seen', ?, ?, NULL, NULL, ?, NULL)", [
            (found_note_id(number), T0, T0, json.dumps(channels)) for number, channels in OLD_NOTES.items()
        ])
    return SqliteNoteStore(path)


def old_mongo_store(server: MongoServer) -> MongoNoteStore:
    uri = server.uri("old_%s" % uuid.uuid4().hex[:12])
    store = MongoNoteStore(uri)
    client: MongoClient[dict] = MongoClient(uri)
    with client:
        database = client[store.database_name]
        database.feed_appearances.create_index(
            [(name, ASCENDING) for name in ("run_id", "channel", "page", "position")], unique=True)
        database.feed_appearances.insert_many([dict(card) for card in OLD_CARDS])
        database.notes.insert_many([
            {"_id": found_note_id(number), "note_id": found_note_id(number), "status": "seen",
             "first_seen_at": T0, "last_seen_at": T0, "channels": channels, "detail_fetched_at": None,
             "unavailable_at": None}
            for number, channels in OLD_NOTES.items()
        ])
    return store


@pytest.fixture(params=["sqlite", "mongodb"])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> NoteStore:
    if request.param == "sqlite":
        return old_sqlite_store(tmp_path / "old" / "xhs.sqlite3")
    return old_mongo_store(request.getfixturevalue("mongo_server"))


def test_an_old_store_s_feed_appearances_become_the_channel_s(old_store: NoteStore) -> None:
    with old_store as store:
        appearances = store.records("feed_appearances")

    assert len(appearances) == len(OLD_CARDS)
    assert sorted(appearances, key=lambda a: (a["channel"], a["position"])) == sorted(
        ({**card, "source_kind": "channel", "source_value": card["channel"]} for card in OLD_CARDS),
        key=lambda a: (a["channel"], a["position"]),
    )


def test_an_old_store_s_notes_get_their_channels_as_sources(old_store: NoteStore) -> None:
    with old_store as store:
        sources = {note["note_id"]: note["sources"] for note in store.iter_notes()}
        unfetched = store.unfetched_source_note_ids(["channel:" + TRAVEL], None)

    assert sources == {
        found_note_id(1): ["channel:" + FOOD, "channel:" + TRAVEL],
        found_note_id(2): ["channel:" + FOOD],
        found_note_id(3): [],
    }
    assert unfetched == [found_note_id(1)]


def test_a_migrated_store_takes_every_source_and_migrates_once(old_store: NoteStore) -> None:
    with old_store as store:
        # The old key would have refused a second source at a place it holds.
        store.write(WriteBatch("old-run", source_appearances=[
            dict(source_appearance(1, position=1)), dict(source_appearance(2, position=1, source_value="露营")),
        ]))
        # A replay of an old run's journal (feed cards, no source) lands on the migrated records.
        store.write(WriteBatch("old-run", appearances=[
            {k: v for k, v in card.items() if k != "run_id"} for card in OLD_CARDS]))
        before = store.records("feed_appearances"), list(store.iter_notes())
    with same_place(store) as reopened:
        after = reopened.records("feed_appearances"), list(reopened.iter_notes())

    assert len(before[0]) == len(OLD_CARDS) + 2
    assert after == before
    assert [n["sources"] for n in after[1]][0] == ["channel:" + FOOD, "channel:" + TRAVEL, "keyword:咖啡"]


def test_the_old_unique_key_is_replaced_in_mongodb(mongo_server: MongoServer) -> None:  # noqa: F811 (the fixture)
    store = old_mongo_store(mongo_server)
    client: MongoClient[dict] = MongoClient(store.uri)
    with store, client:
        keys = [list(index["key"]) for index in
                client[store.database_name].feed_appearances.index_information().values() if index.get("unique")]

    assert keys == [[(name, 1) for name in ("run_id", "source_kind", "source_value", "page", "position")]]


def test_the_old_sqlite_table_is_gone_and_the_new_key_holds(tmp_path: Path) -> None:
    store = old_sqlite_store(tmp_path / "old" / "xhs.sqlite3")
    with store:
        pass
    with closing(sqlite3.connect(store.path)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(
                "INSERT INTO feed_appearances (run_id, source_kind, source_value, page, position, note_id,"
                " crawled_at, record) VALUES ('old-run', 'channel', ?, 1, 1, 'n', 't', '{}')", (FOOD,))
        columns = {row[1] for row in connection.execute("PRAGMA table_info(notes)")}

    assert "feed_appearances_by_channel" not in tables
    assert {"source_pages", "creators", "raw_answers", "share_links"} <= tables
    assert {"failed_at", "failed_reason", "sources"} <= columns
    assert {"comments", "comment_metrics", "comment_claims"} <= tables
    assert {"comments_fetched_at", "comments_counter", "comments_stored"} <= columns
