"""``scrapy export``: the store's dataset to CSV, JSON Lines, JSON and Parquet, on both stores."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pymongo import MongoClient

from sandbox.process import free_port
from tests.conftest import run_scrapy
from tests.items import example_note
from tests.mongo_server import MongoServer
from xhs_spider.dataset.columns import collection_columns
from xhs_spider.dataset.query import iso_utc
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.sqlite import SqliteNoteStore

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

FOOD, TRAVEL = "homefeed_food_v3", "homefeed_travel_v3"
COLLECTIONS = ("notes", "appearances", "metrics", "runs")
TIME = {"notes": "last_seen_at", "appearances": "crawled_at", "metrics": "fetched_at", "runs": "started_at"}


@pytest.fixture
def mongo(tmp_path: Path) -> Iterator[MongoServer]:
    # One server per test: nx-27017 was seen to answer a filtered find()
    # unfiltered on a server that had served another test's queries.
    with MongoServer(tmp_path / "mongo") as server:
        yield server


@pytest.fixture(params=["sqlite", "mongo"])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'xhs.sqlite3'}"
    server = request.getfixturevalue("mongo")
    return server.uri("export_%s" % uuid.uuid4().hex[:12])


def export(store_uri: str, *args: str) -> tuple[int, str]:
    done = run_scrapy(["export", *args], env={"XHS_STORE_URI": store_uri})
    return done.returncode, done.stdout + done.stderr


def stored(store_uri: str, collection: str, *, since: str | None = None,
           channel: str | None = None) -> list[dict]:
    """The records the store holds, read without the code under test."""
    if store_uri.startswith("sqlite"):
        return sqlite_records(Path(store_uri[len("sqlite://"):]), collection, since, channel)
    return mongo_records(store_uri, collection, since, channel)


def sqlite_records(path: Path, collection: str, since: str | None, channel: str | None) -> list[dict]:
    table, time_field, channel_test = {
        "notes": ("notes", "last_seen_at", "? IN (SELECT value FROM json_each(channels))"),
        "appearances": ("feed_appearances", "crawled_at", "channel = ?"),
        "metrics": ("note_metrics", "fetched_at",
                    "note_id IN (SELECT note_id FROM notes, json_each(notes.channels) WHERE value = ?)"),
        "runs": ("runs", "json_extract(record, '$.started_at')",
                 "json_type(record, '$.summary.channels.' || ?) IS NOT NULL"),
    }[collection]
    conditions, values = ["1"], []
    if since:
        conditions.append(f"{time_field} >= ?")
        values.append(since)
    if channel:
        conditions.append(channel_test)
        values.append(channel)
    with sqlite3.connect(path) as database:
        database.row_factory = sqlite3.Row
        rows = database.execute(f"SELECT * FROM {table} WHERE {' AND '.join(conditions)}", values)
        return [dict(row) for row in rows]


def mongo_records(uri: str, collection: str, since: str | None, channel: str | None) -> list[dict]:
    name, time_field = {"notes": ("notes", "last_seen_at"), "appearances": ("feed_appearances", "crawled_at"),
                        "metrics": ("note_metrics", "fetched_at"), "runs": ("runs", "started_at")}[collection]
    client: MongoClient = MongoClient(uri)
    try:
        database = client.get_default_database()
        records = list(database[name].find({}))
        in_channel = {n["_id"] for n in database.notes.find({}) if channel in n.get("channels", [])}
    finally:
        client.close()
    # Filtered here, not by the server: the check does not share the reader's queries.
    if since:
        records = [record for record in records if str(record.get(time_field)) >= since]
    if channel and collection in ("notes", "metrics"):
        key = "_id" if collection == "notes" else "note_id"
        records = [record for record in records if record[key] in in_channel]
    elif channel and collection == "appearances":
        records = [record for record in records if record["channel"] == channel]
    elif channel:
        records = [record for record in records if channel in record["summary"]["channels"]]
    return records


def read_export(path: Path) -> tuple[list[str], list[dict]]:
    """The columns and rows of an exported file, read with plain libraries."""
    if path.suffix == ".csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "CSV without the byte-order mark"
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.DictReader(file)
            return list(reader.fieldnames or []), list(reader)
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return table.column_names, table.to_pylist()
    text = path.read_text("utf-8")
    rows = json.loads(text) if path.suffix == ".json" else [json.loads(line) for line in text.splitlines()]
    return (list(rows[0]) if rows else []), rows


def test_export_writes_every_stored_record_after_a_rerun_within_the_ttl(crawl, store_uri, tmp_path):
    first = crawl("feed", f"oid={FOOD},{TRAVEL}", "pages=2", settings={"XHS_STORE_URI": store_uri})
    assert first.returncode == 0 and first.finish_reason == "finished", first.stdout[-2000:]
    assert export(store_uri, "notes", "-o", str(tmp_path / "first.csv"))[0] == 0
    second = crawl("feed", f"oid={FOOD},{TRAVEL}", "pages=2", settings={"XHS_STORE_URI": store_uri})
    assert second.returncode == 0 and second.finish_reason == "finished", second.stdout[-2000:]
    # The second run fetched no note (all fresh): its feed export holds none.
    assert second.notes == [] and second.stats["xhs/notes/skipped_fresh"] > 0

    titles = {note["title"] for note in first.notes if note["title"]}
    for collection in COLLECTIONS:
        expected = stored(store_uri, collection)
        columns = [column.name for column in collection_columns(collection)]
        for suffix in (".csv", ".jsonl", ".parquet"):
            path = tmp_path / f"{collection}{suffix}"
            code, output = export(store_uri, collection, "-o", str(path))
            assert code == 0, output
            header, rows = read_export(path)
            assert (header, len(rows)) == (columns, len(expected)), (collection, suffix)
            assert f"Exported {len(expected)} {collection} " in output
            if collection == "notes":
                assert {row["title"] for row in rows} >= titles  # Chinese intact
    assert titles and any("\u4e00" <= char <= "\u9fff" for title in titles for char in title)
    assert read_export(tmp_path / "first.csv")[0] == read_export(tmp_path / "notes.csv")[0]
    schema = pq.read_schema(tmp_path / "notes.parquet")
    assert pa.types.is_int64(schema.field("counts.likes").type)
    assert pa.types.is_list(schema.field("hashtags").type) and pa.types.is_list(schema.field("images.width").type)
    _, runs = read_export(tmp_path / "runs.parquet")
    assert [run["summary.api.billed"] for run in runs] == [
        first.stats["justoneapi/billed"], second.stats.get("justoneapi/billed", 0)]


def test_window_channel_and_status_filters_return_what_the_store_holds(crawl, store_uri, tmp_path):
    settings = {"XHS_STORE_URI": store_uri}
    assert crawl("feed", f"oid={FOOD},{TRAVEL}", "pages=1", settings=settings).returncode == 0
    time.sleep(0.01)
    between = iso_utc(datetime.now(timezone.utc))
    assert crawl("feed", f"oid={FOOD}", "pages=2", "refresh=true", settings=settings).returncode == 0
    # Travel's notes fetched again after `between`: its metrics since then are some, not none.
    assert crawl("feed", f"oid={TRAVEL}", "pages=1", "refresh=true", settings=settings).returncode == 0

    cases = [
        ("appearances", ["--since", between], {"since": between}),
        ("metrics", ["--since", between], {"since": between}),
        ("runs", ["--since", between], {"since": between}),
        ("appearances", ["--channel", TRAVEL], {"channel": TRAVEL}),
        ("notes", ["--channel", TRAVEL], {"channel": TRAVEL}),
        ("metrics", ["--channel", TRAVEL, "--since", between], {"channel": TRAVEL, "since": between}),
        ("runs", ["--channel", TRAVEL], {"channel": TRAVEL}),
    ]
    for collection, options, filters in cases:
        path = tmp_path / f"{collection}.jsonl"
        code, output = export(store_uri, collection, "-o", str(path), *options)
        assert code == 0, output
        expected = stored(store_uri, collection, **filters)
        assert 0 < len(expected) < len(stored(store_uri, collection)), (
            collection, options, sorted((str(r.get("run_id")), str(r.get(TIME[collection])))
                                        for r in stored(store_uri, collection))[::5])
        _, rows = read_export(path)
        assert len(rows) == len(expected), (collection, options)
        assert all(row[TIME[collection]] >= filters.get("since", "") for row in rows)

    code, output = export(store_uri, "notes", "-o", str(tmp_path / "ok.json"), "--status", "ok")
    assert code == 0, output
    _, rows = read_export(tmp_path / "ok.json")
    assert rows and {row["status"] for row in rows} == {"ok"}
    assert len(rows) == sum(1 for note in stored(store_uri, "notes") if note["status"] == "ok")


def test_since_accepts_spans_and_dates(crawl, tmp_path):
    store_uri = f"sqlite:///{tmp_path / 'xhs.sqlite3'}"
    assert crawl("feed", f"oid={FOOD}", "pages=1", settings={"XHS_STORE_URI": store_uri}).returncode == 0
    total = len(stored(store_uri, "appearances"))
    for since, count in (("30m", total), ("24h", total), ("7d", total), ("2000-01-01", total),
                         ("2999-01-01", 0)):
        path = tmp_path / "a.csv"
        code, output = export(store_uri, "appearances", "-o", str(path), "--since", since)
        assert code == 0, output
        assert len(read_export(path)[1]) == count, since
        assert read_export(path)[0][:3] == ["run_id", "note_id", "channel"]  # a header, even empty


@pytest.mark.parametrize(("args", "message"), [
    (["posts", "-o", "x.csv"], "unknown collection 'posts'"),
    (["notes", "-o", "x.xlsx"], "cannot tell the format"),
    (["notes", "-o", "x.csv", "--since", "last week"], "--since 'last week'"),
    (["notes", "-o", "x.csv", "--status", "gone"], "unknown note status 'gone'"),
    (["notes", "-o", "x.csv", "--status", ""], "--status is empty: give one of ok,"),
    (["notes", "-o", "x.csv", "--channel", ""], "--channel is empty: give a channel"),
    (["notes", "-o", "x.csv", "--channel", "all,homefeed_food_v3"], "--channel='all,homefeed_food_v3': 'all'"),
    (["notes"], "-o FILE"),
])
def test_bad_input_gets_one_line_and_exit_2(tmp_path, args, message):
    done = run_scrapy(["export", *args], env={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'none.sqlite3'}"},
                      cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], done.stderr


def test_no_such_store_gets_one_line_and_exit_2(tmp_path):
    path = tmp_path / "absent.sqlite3"
    code, output = export(f"sqlite:///{path}", "notes", "-o", str(tmp_path / "notes.csv"))
    assert code == 2 and output.strip() == f"Error: no store at sqlite://{path} (nothing crawled there yet?)"
    assert not path.exists() and not (tmp_path / "notes.csv").exists()


def damaged_store(path: Path, notes: int = 60) -> None:
    """An SQLite store that opens, but whose notes' pages are garbage: reading
    them fails once the stream has started ("database disk image is malformed")."""
    batch = WriteBatch(run_id="damaged")
    for number in range(notes):
        note = dict(example_note())
        note["note_id"] = "67f32a94000000001d02e%03x" % number
        batch.notes.append(note)
    with SqliteNoteStore(str(path)) as store:
        store.write(batch)
    with sqlite3.connect(path) as database:
        page_size = database.execute("PRAGMA page_size").fetchone()[0]
        pages = [row[0] for row in database.execute(
            "SELECT pageno FROM dbstat WHERE name = 'notes' AND pagetype != 'internal'")]
    assert len(pages) > 1
    with path.open("r+b") as file:
        for page in pages:
            file.seek((page - 1) * page_size)
            file.write(b"\xa5" * page_size)


def unreachable_mongodb_uri() -> str:
    """A MongoDB URI with a password, on a loopback port nothing listens on."""
    return f"mongodb://reader:s3cret-pw@127.0.0.1:{free_port()}/xhs"


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_store_failing_mid_stream_gets_one_line_exit_1_and_no_file(tmp_path, kind):
    damaged_store(tmp_path / "xhs.sqlite3")
    out = tmp_path / f"notes.{kind}"
    done = run_scrapy(["export", "notes", "-o", str(out)],
                      env={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'xhs.sqlite3'}"})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Error: cannot read sqlite://{tmp_path / 'xhs.sqlite3'}: "), lines
    assert "malformed" in lines[0]
    # Neither the file nor its temporary file (.notes.<kind>.<random>.part).
    assert [path.name for path in tmp_path.iterdir() if "notes." in path.name] == []


def test_an_unreachable_mongodb_is_exit_1_with_its_password_masked(tmp_path):
    done = run_scrapy(["export", "notes", "-o", str(tmp_path / "notes.csv")],
                      env={"XHS_STORE_URI": unreachable_mongodb_uri()})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: cannot read mongodb://reader:***@127.0.0.1:")
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_malformed_mongodb_uri_is_bad_input(tmp_path):
    done = run_scrapy(["export", "notes", "-o", str(tmp_path / "notes.csv")],
                      env={"XHS_STORE_URI": "mongodb://reader:s3cret-pw@db:99999/xhs"})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "malformed" in lines[0], done.stderr
    assert "s3cret-pw" not in done.stderr
