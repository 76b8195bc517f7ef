"""The note store, on both backends: SQLite on a real file, MongoDB on nx-27017."""

from __future__ import annotations

import random
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

from tests.mongo_server import MongoServer
from xhs_spider.store import (
    MongoNoteStore,
    NoteStore,
    SqliteNoteStore,
    StoreUnavailable,
    WriteBatch,
    open_store,
)

BACKENDS = ["sqlite", "mongo"]
FOOD = "homefeed.food_v3"
TRAVEL = "homefeed.travel_v3"
COLLECTIONS = ("notes", "feed_appearances", "note_metrics", "runs")
#: A note's comment bookkeeping before any paging of its comments.
NO_COMMENTS = {"comments_fetched_at": None, "comments_counter": None, "comments_stored": None}


def at(day: int, hour: int = 0, second: int = 0) -> str:
    return "2026-11-%02dT%02d:00:%02dZ" % (day, hour, second)


def note_id(number: int) -> str:
    return "%024x" % number


def detail(number: int, crawled_at: str, *, likes: int = 1, title: str = "秋天的第一杯奶茶") -> dict:
    return {
        "note_id": note_id(number),
        "url": "https://www.xiaohongshu.com/explore/%s" % note_id(number),
        "type": "image",
        "title": title,
        "text": "好喝 #奶茶[话题]#",
        "hashtags": ["奶茶"],
        "images": [
            {"file_id": "f%d" % number, "url": "https://sns-img.example/f%d" % number, "width": 1080, "height": 1440},
        ],
        "video": None,
        "author": {"user_id": "u%d" % number, "nickname": "小红"},
        "counts": {
            "likes": likes, "collects": 2, "comments": 3, "shares": 4,
            "reads": 50, "impressions": 90, "follows": 1,
        },
        "published_at": at(1),
        "updated_at": None,
        "crawled_at": crawled_at,
        "request_id": "req-%d" % number,
    }


def appearance(number: int, channel: str, crawled_at: str, *, page: int = 1, position: int = 1) -> dict:
    return {
        "note_id": note_id(number),
        "channel": channel,
        "page": page,
        "position": position,
        "crawled_at": crawled_at,
        "title": "卡片 %d" % number,
        "type": "video",
        "likes": 12000,
        "likes_text": "1.2万",
        "author": {"user_id": "u%d" % number, "nickname": None},
        "cover": {"file_id": None, "url": "https://sns-img.example/c%d" % number},
        "category": "旅游",
        "published_at": None,
    }


def stored(store: NoteStore, number: int) -> dict:
    """The note record of *number*, which the test has written."""
    note = store.get_note(note_id(number))
    assert note is not None, "note %d is not in the store" % number
    return note


def state(store: NoteStore) -> tuple:
    """Everything the store reports, to compare two stores or two moments."""
    counts = {collection: store.count(collection) for collection in COLLECTIONS}
    return counts, list(store.iter_notes()), store.find_runs()


# --- fixtures ---------------------------------------------------------------


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    with MongoServer(tmp_path_factory.mktemp("nx-27017")) as server:
        yield server


def build_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> NoteStore:
    if backend == "sqlite":
        return SqliteNoteStore(tmp_path / uuid.uuid4().hex / "xhs.sqlite3")
    server = request.getfixturevalue("mongo_server")
    return MongoNoteStore(server.uri("test_%s" % uuid.uuid4().hex[:16]))


def same_place(store: NoteStore) -> NoteStore:
    """A second, closed store on the same file or database."""
    if isinstance(store, SqliteNoteStore):
        return SqliteNoteStore(store.path)
    assert isinstance(store, MongoNoteStore)
    return MongoNoteStore(store.uri)


@pytest.fixture(params=BACKENDS)
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], NoteStore]]:
    """Opens empty stores of one backend; closes them after the test."""
    opened: list[NoteStore] = []

    def new() -> NoteStore:
        store = build_store(request.param, request, tmp_path)
        store.open()
        opened.append(store)
        return store

    yield new
    for store in opened:
        store.close()


@pytest.fixture
def store(new_store: Callable[[], NoteStore]) -> NoteStore:
    return new_store()


def insert_raw(store: NoteStore, collection: str, record: dict) -> None:
    """Insert past the store's upserts, to see its unique keys at work."""
    if isinstance(store, SqliteNoteStore):
        with closing(sqlite3.connect(store.path)) as connection, connection:
            columns = ", ".join(record)
            connection.execute(
                "INSERT INTO %s (%s) VALUES (%s)" % (collection, columns, ", ".join("?" * len(record))),
                list(record.values()),
            )
    else:
        assert isinstance(store, MongoNoteStore)
        client: MongoClient[dict] = MongoClient(store.uri)
        with client:
            client[store.database_name][collection].insert_one(record)


# --- keys and idempotence ---------------------------------------------------


def test_open_creates_unique_keys(store: NoteStore) -> None:
    store.write(WriteBatch("r1", appearances=[appearance(1, FOOD, at(2), position=3)]))
    store.write(WriteBatch("r1", appearances=[appearance(2, FOOD, at(2, 1), position=3)]))

    assert store.count("feed_appearances") == 1
    duplicates = (sqlite3.IntegrityError, DuplicateKeyError)
    with pytest.raises(duplicates):
        insert_raw(store, "feed_appearances", {
            "run_id": "r1", "source_kind": "channel", "source_value": FOOD, "page": 1, "position": 3,
            "note_id": note_id(9), "crawled_at": at(3), "record": "{}",
        })
    store.write(WriteBatch("r1", notes=[detail(1, at(4))]))
    with pytest.raises(duplicates):
        insert_raw(store, "note_metrics", {"note_id": note_id(1), "fetched_at": at(4), "run_id": "r2"})


def test_last_appearance_at_a_place_wins(store: NoteStore) -> None:
    store.write(WriteBatch("r1", appearances=[appearance(1, FOOD, at(2)), appearance(2, FOOD, at(2, 1))]))

    assert store.count("feed_appearances") == 1
    assert stored(store, 2)["channels"] == [FOOD]


def test_reopening_keeps_data(store: NoteStore) -> None:
    store.write(WriteBatch("r1", appearances=[appearance(1, FOOD, at(2))], notes=[detail(1, at(3))]))
    before = state(store)
    store.close()

    with same_place(store) as reopened:
        assert state(reopened) == before


def test_write_is_idempotent(store: NoteStore) -> None:
    batch = WriteBatch(
        "r1",
        appearances=[
            appearance(1, FOOD, at(2)), appearance(1, TRAVEL, at(2)), appearance(2, FOOD, at(2), position=2),
        ],
        notes=[detail(1, at(3)), detail(3, at(3))],
        unavailable=[(note_id(2), at(3)), (note_id(4), at(3))],
        runs=[{"run_id": "r1", "spider": "feed", "started_at": at(2)}],
    )
    store.write(batch)
    first = state(store)
    store.write(batch)

    assert state(store) == first
    assert first[0] == {"notes": 4, "feed_appearances": 3, "note_metrics": 2, "runs": 1}


def test_counts(store: NoteStore) -> None:
    store.write(WriteBatch("r1", appearances=[
        appearance(1, FOOD, at(2), position=1),
        appearance(2, FOOD, at(2), position=2),
        appearance(1, TRAVEL, at(2), position=1),
    ], notes=[detail(1, at(2, 1))]))
    store.write(WriteBatch("r2", appearances=[
        appearance(1, FOOD, at(3), position=1),
        appearance(3, FOOD, at(3), position=2),
    ], notes=[detail(1, at(3, 1)), detail(2, at(3, 1))]))
    store.write(WriteBatch("r2", notes=[detail(2, at(3, 1))]))

    assert store.count("notes") == 3
    assert store.count("feed_appearances") == 5
    assert store.count("note_metrics") == 3
    assert store.count("runs") == 0
    with pytest.raises(ValueError, match="unknown collection 'users'"):
        store.count("users")


# --- note bookkeeping -------------------------------------------------------


def test_seen_bookkeeping_merges_across_batches_and_runs(store: NoteStore) -> None:
    store.write(WriteBatch("r2", appearances=[appearance(1, FOOD, at(2))]))
    store.write(WriteBatch("r1", appearances=[appearance(1, TRAVEL, at(1))]))  # replayed late
    store.write(WriteBatch("r3", appearances=[appearance(1, FOOD, at(3))]))

    assert store.get_note(note_id(1)) == {
        "note_id": note_id(1),
        "status": "seen",
        "first_seen_at": at(1),
        "last_seen_at": at(3),
        "detail_fetched_at": None,
        "unavailable_at": None, "failed_at": None, "failed_reason": None,
        "channels": [FOOD, TRAVEL], "sources": ["channel:" + FOOD, "channel:" + TRAVEL],
        **NO_COMMENTS,
    }
    assert store.count("feed_appearances") == 3


def test_detail_sets_status_and_fields(store: NoteStore) -> None:
    store.write(WriteBatch("r1", appearances=[appearance(1, FOOD, at(2))], notes=[detail(1, at(2, 1), likes=7)]))

    expected = {
        "note_id": note_id(1), "status": "ok", "first_seen_at": at(2), "last_seen_at": at(2, 1),
        "detail_fetched_at": at(2, 1), "unavailable_at": None, "failed_at": None, "failed_reason": None, "channels": [FOOD],
        "sources": ["channel:" + FOOD], **NO_COMMENTS,
    }
    expected.update({name: value for name, value in detail(1, at(2, 1), likes=7).items() if name != "note_id"})
    expected.setdefault("endpoint", None)  # which detail path answered; this detail does not say
    assert store.get_note(note_id(1)) == expected


def test_a_note_seen_again_keeps_its_detail(store: NoteStore) -> None:
    """A batch that brings no detail (the note seen elsewhere) merges into the
    stored note without touching its detail (SQLite neither reads nor writes it)."""
    store.write(WriteBatch("r1", appearances=[appearance(1, FOOD, at(2))], notes=[detail(1, at(2, 1), likes=7)]))
    before = store.get_note(note_id(1))
    assert before is not None
    store.write(WriteBatch("r2", appearances=[appearance(1, TRAVEL, at(5))]))

    after = store.get_note(note_id(1))
    assert after == {**before, "last_seen_at": at(5), "channels": sorted([FOOD, TRAVEL]),
                     "sources": sorted(["channel:" + FOOD, "channel:" + TRAVEL])}


def test_older_detail_does_not_overwrite_newer(store: NoteStore) -> None:
    store.write(WriteBatch("r2", notes=[detail(1, at(3), likes=30, title="新")]))
    store.write(WriteBatch("r1", notes=[detail(1, at(2), likes=20, title="旧")]))

    note = stored(store, 1)
    assert (note["title"], note["counts"]["likes"], note["detail_fetched_at"]) == ("新", 30, at(3))
    assert (note["first_seen_at"], note["last_seen_at"]) == (at(2), at(3))
    assert store.count("note_metrics") == 2


def test_operations_in_one_batch_apply_in_order(store: NoteStore) -> None:
    store.write(WriteBatch("r1", appearances=[appearance(1, FOOD, at(2))], notes=[
        detail(1, at(2, 1)),
        detail(2, at(3), title="先"),
        detail(2, at(3), title="后"),
        detail(3, at(4), title="新"),
        detail(3, at(3), title="旧"),
    ]))

    assert stored(store, 1)["status"] == "ok"
    assert stored(store, 1)["channels"] == [FOOD]
    assert stored(store, 2)["title"] == "后"
    assert stored(store, 3)["title"] == "新"
    assert store.count("note_metrics") == 4


def test_unavailable_bookkeeping(store: NoteStore) -> None:
    store.write(WriteBatch("r1", unavailable=[(note_id(1), at(2))]))
    assert store.get_note(note_id(1)) == {
        "note_id": note_id(1), "status": "unavailable", "first_seen_at": at(2), "last_seen_at": at(2),
        "detail_fetched_at": None, "unavailable_at": at(2), "failed_at": None, "failed_reason": None, "channels": [],
        "sources": [], **NO_COMMENTS,
    }

    store.write(WriteBatch("r1", notes=[detail(2, at(2), title="还在")]))
    store.write(WriteBatch("r2", unavailable=[(note_id(2), at(4))]))
    store.write(WriteBatch("r2", unavailable=[(note_id(2), at(3))]))
    note = stored(store, 2)
    assert (note["status"], note["unavailable_at"], note["detail_fetched_at"]) == ("unavailable", at(4), at(2))
    assert note["title"] == "还在"

    store.write(WriteBatch("r3", notes=[detail(2, at(5), title="回来了")]))
    note = stored(store, 2)
    assert (note["status"], note["unavailable_at"], note["title"]) == ("ok", None, "回来了")

    store.write(WriteBatch("r2", unavailable=[(note_id(2), at(4))]))  # a replayed, older 201
    assert stored(store, 2)["status"] == "ok"


def test_unknown_note_is_none(store: NoteStore) -> None:
    assert store.get_note(note_id(404)) is None


# --- queries ----------------------------------------------------------------


def test_fetch_times_give_the_latest_detail_or_201(store: NoteStore) -> None:
    since = at(10, 12)
    store.write(WriteBatch(
        "r1",
        notes=[detail(1, since), detail(2, at(10, 11, 59)), detail(5, at(9))],
        unavailable=[(note_id(3), since), (note_id(5), at(11))],
        appearances=[appearance(4, FOOD, at(11))],
    ))
    asked = [note_id(number) for number in range(1, 1200)]  # several SQLite chunks

    # Note 4 was only seen in a feed: never fetched, so not there.
    assert store.fetch_times(asked) == {
        note_id(1): since,
        note_id(2): at(10, 11, 59),
        note_id(3): since,
        note_id(5): at(11),
    }
    assert store.fetch_times([note_id(4)]) == {}
    assert store.fetch_times([]) == {}


def test_stale_note_ids_oldest_first(store: NoteStore) -> None:
    store.write(WriteBatch(
        "r1",
        notes=[detail(1, at(4)), detail(2, at(2)), detail(3, at(3)), detail(4, at(6)), detail(6, at(1))],
        appearances=[appearance(5, FOOD, at(1))],
        unavailable=[(note_id(6), at(2))],
    ))

    assert store.stale_note_ids(at(5)) == [note_id(2), note_id(3), note_id(1)]
    assert store.stale_note_ids(at(5), limit=2) == [note_id(2), note_id(3)]
    assert store.stale_note_ids(at(5), limit=0) == []
    assert store.stale_note_ids(at(1)) == []


def test_runs_merge_fields(store: NoteStore) -> None:
    store.write(WriteBatch("r2", runs=[
        {"run_id": "r2", "spider": "feed", "started_at": at(5), "arguments": {"pages": 3}},
    ]))
    store.write(WriteBatch("r1", runs=[
        {"run_id": "r1", "spider": "feed", "started_at": at(1)},
        {"run_id": "r1", "finished_at": at(2), "finish_reason": "finished", "counts": {"notes": 9}},
    ]))
    store.write(WriteBatch("r2", runs=[
        {"run_id": "r2", "arguments": {"channels": [FOOD]}, "finished_at": at(6)},
    ]))

    assert store.find_runs() == [
        {"run_id": "r1", "spider": "feed", "started_at": at(1), "finished_at": at(2),
         "finish_reason": "finished", "counts": {"notes": 9}},
        {"run_id": "r2", "spider": "feed", "started_at": at(5), "arguments": {"channels": [FOOD]},
         "finished_at": at(6)},
    ]


def test_usable_from_another_thread(store: NoteStore) -> None:
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(store.write, WriteBatch("r1", notes=[detail(1, at(2))])).result()
        assert worker.submit(store.count, "notes").result() == 1


# --- order does not matter; both backends agree -----------------------------


def random_batches(seed: int) -> list[WriteBatch]:
    """Batches of three runs over twelve notes, with replays and late news.

    Details cover notes 1-8 and 201s notes 5-10, so every status occurs.
    """
    chooser = random.Random(seed)
    batches: list[WriteBatch] = []
    for run in range(3):
        places = iter(range(1, 1000))
        for _ in range(4):
            batch = WriteBatch("run-%d" % run)
            for _ in range(6):
                number, day = chooser.randint(1, 12), chooser.randint(1, 9)
                channel = chooser.choice([FOOD, TRAVEL])
                batch.appearances.append(appearance(number, channel, at(day, run), position=next(places)))
            for _ in range(3):
                # Counters follow from the fetch time: one fetch, one content.
                number, day = chooser.randint(1, 8), chooser.randint(1, 9)
                batch.notes.append(detail(number, at(day, 10 + run), likes=number * day + run))
            for _ in range(2):
                number, day = chooser.randint(5, 10), chooser.randint(1, 9)
                batch.unavailable.append((note_id(number), at(day, 20 + run)))
            batch.runs.append({"run_id": batch.run_id, "batches": len(batches)})
            batches.append(batch)
    return batches


def shuffled(batch: WriteBatch, chooser: random.Random) -> WriteBatch:
    notes, appearances, unavailable = list(batch.notes), list(batch.appearances), list(batch.unavailable)
    chooser.shuffle(notes)
    chooser.shuffle(appearances)
    chooser.shuffle(unavailable)
    return WriteBatch(batch.run_id, notes, appearances, unavailable, runs=batch.runs)


def test_notes_do_not_depend_on_write_order(new_store: Callable[[], NoteStore]) -> None:
    forward, backward = new_store(), new_store()
    batches = random_batches(seed=11)
    for batch in batches:
        forward.write(batch)
    chooser = random.Random(3)
    for batch in reversed(batches):
        backward.write(shuffled(batch, chooser))
        backward.write(batch)

    assert list(backward.iter_notes()) == list(forward.iter_notes())
    assert {note["status"] for note in forward.iter_notes()} == {"seen", "ok", "unavailable"}


def test_backends_agree(tmp_path: Path, mongo_server: MongoServer) -> None:
    with SqliteNoteStore(tmp_path / "xhs.sqlite3") as sqlite_store, \
            MongoNoteStore(mongo_server.uri("agree_%s" % uuid.uuid4().hex[:12])) as mongo_store:
        for batch in random_batches(seed=5):
            sqlite_store.write(batch)
            mongo_store.write(batch)
        notes = list(sqlite_store.iter_notes())
        assert state(mongo_store) == state(sqlite_store)
        assert [mongo_store.get_note(note["note_id"]) for note in notes] == notes
        asked = [note_id(number) for number in range(12)]
        assert mongo_store.fetch_times(asked) == sqlite_store.fetch_times(asked)
        assert mongo_store.stale_note_ids(at(7)) == sqlite_store.stale_note_ids(at(7))


# --- spill files ------------------------------------------------------------


def test_json_lines_round_trip() -> None:
    batches = [
        WriteBatch("r1", notes=[detail(1, at(2))], appearances=[appearance(1, FOOD, at(2))],
                   unavailable=[(note_id(2), at(3))], runs=[{"run_id": "r1", "note": "第一次"}]),
        WriteBatch("r2", appearances=[appearance(3, TRAVEL, at(4))]),
    ]
    lines = [line for batch in batches for line in batch.to_json_lines()]

    assert len(lines) == sum(len(batch) for batch in batches) == 5
    assert "秋天的第一杯奶茶" in lines[0]
    assert WriteBatch.from_json_lines([lines[0], "", "  ", *lines[1:]]) == batches


def test_replayed_spill_writes_the_same_state(new_store: Callable[[], NoteStore], tmp_path: Path) -> None:
    direct, replayed = new_store(), new_store()
    batches = random_batches(seed=2)
    spill = tmp_path / "spill.jsonl"
    with spill.open("w", encoding="utf-8") as file:
        for batch in batches:
            direct.write(batch)
            file.writelines(line + "\n" for line in batch.to_json_lines())
    with spill.open(encoding="utf-8") as file:
        for batch in WriteBatch.from_json_lines(file):
            replayed.write(batch)

    assert state(replayed) == state(direct)


@pytest.mark.parametrize(("bad_line", "message"), [
    ("{not json", "line 2: not JSON"),
    ("[1, 2]", "line 2: not a JSON object"),
    ('{"kind": "remark", "run_id": "r1", "data": {}}', "line 2: unknown kind 'remark'"),
    ('{"kind": "note", "data": {"note_id": "x", "crawled_at": "t"}}', "line 2: run_id must be"),
    ('{"kind": "unavailable", "run_id": "r1", "data": {"note_id": "x"}}', "line 2: unavailable data lacks at"),
])
def test_malformed_json_line(bad_line: str, message: str) -> None:
    good = WriteBatch("r1", unavailable=[(note_id(1), at(1))]).to_json_lines()[0]
    with pytest.raises(ValueError, match="^%s" % message):
        WriteBatch.from_json_lines([good, bad_line])


# --- MongoDB outages ----------------------------------------------------------


@pytest.mark.integration
def test_mongo_outage_raises_store_unavailable_then_recovers(tmp_path: Path) -> None:
    with MongoServer(tmp_path / "nx-27017") as server, \
            MongoNoteStore(server.uri("xhs"), server_selection_timeout_ms=1000) as store:
        store.write(WriteBatch("r1", notes=[detail(1, at(2))]))
        server.stop()
        started = time.monotonic()
        # The pooled connection fails at once; then server selection times out.
        with pytest.raises(StoreUnavailable, match="cannot write mongodb://127.0.0.1"):
            store.write(WriteBatch("r1", notes=[detail(2, at(2))]))
        with pytest.raises(StoreUnavailable, match="cannot read"):
            store.count("notes")
        assert time.monotonic() - started < 3

        server.restart()
        store.write(WriteBatch("r1", notes=[detail(2, at(2))]))
        assert store.count("notes") == 2


def test_mongo_unreachable_at_open(tmp_path: Path) -> None:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = MongoNoteStore("mongodb://127.0.0.1:%d/xhs" % port, server_selection_timeout_ms=500)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot open"):
        store.open()
    assert time.monotonic() - started < 3


# --- open_store -------------------------------------------------------------


def test_open_store_defaults_to_sqlite(tmp_path: Path) -> None:
    default = open_store(None)
    assert isinstance(default, SqliteNoteStore)
    assert default.path == Path("data/xhs.sqlite3")
    path = tmp_path / "data" / "xhs.sqlite3"
    with open_store(None, default_path=str(path)) as store:
        assert isinstance(store, SqliteNoteStore)
        assert path.exists()


def test_open_store_sqlite_uri(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "notes.db"
    store = open_store("sqlite://%s" % path)

    assert isinstance(store, SqliteNoteStore)
    assert store.path == path
    assert store.display_uri == "sqlite://%s" % path
    with store:
        assert store.count("notes") == 0
    with pytest.raises(ValueError, match="names no file"):
        open_store("sqlite://")


def test_open_store_mongo_uri(mongo_server: MongoServer) -> None:
    store = open_store(mongo_server.uri("xhs"))

    assert isinstance(store, MongoNoteStore)
    assert store.database_name == "xhs"
    with store:
        assert store.count("runs") == 0


@pytest.mark.parametrize("uri", ["postgres://user:s3cret@db/xhs", "data/xhs.sqlite3"])
def test_open_store_unknown_scheme(uri: str) -> None:
    with pytest.raises(ValueError, match="unsupported store URI scheme") as raised:
        open_store(uri)
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize("uri", ["mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/?authSource=admin"])
def test_mongo_uri_without_database(uri: str) -> None:
    with pytest.raises(ValueError, match="names no database"):
        open_store(uri)


def test_mongo_display_uri_hides_passwords() -> None:
    store = MongoNoteStore(
        "mongodb://crawler:s3cret@127.0.0.1:27017/xhs?authSource=admin&tlsCertificateKeyFilePassword=k3y"
    )

    assert store.display_uri == (
        "mongodb://crawler:***@127.0.0.1:27017/xhs?authSource=admin&tlsCertificateKeyFilePassword=***"
    )
    assert "s3cret" not in repr(store)
