"""``scrapy export`` and ``scrapy report`` know every source a note is found
under: a channel's feed, a keyword's search, a creator's notes, a topic's
notes (``--source KIND:VALUE``), on both stores and on a store made before
there were other sources."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests import test_commands_export
from tests.conftest import run_scrapy
from tests.items import appearance, note, note_id
from tests.test_commands_export import read_export
from tests.test_commands_report import page_tables
from xhs_spider.dataset.columns import collection_columns
from xhs_spider.dataset.query import Query, parse_source
from xhs_spider.dataset.readers import dataset_from_settings, opened
from xhs_spider.report.figures import compute
from xhs_spider.store import open_store
from xhs_spider.store.batch import WriteBatch

#: Every test here starts a process (a command or a server).
pytestmark = pytest.mark.integration
#: The fixtures of the export's tests: a store of each backend (a MongoDB server per test).
mongo, store_uri = test_commands_export.mongo, test_commands_export.store_uri
FOOD = "homefeed_food_v3"
COFFEE, CAMPING = "咖啡", "露营"
CREATOR, TOPIC = "5ff0e6410000000001008400", "5be00e3b9c4ab10001d1c1a2"
AT = "2026-11-30T10:00:00.000Z"


def found(number: int, kind: str, value: str, page: int, rank: int, **changes: Any) -> dict:
    """An AppearanceItem's fields: note *number* found under a source."""
    return {
        "note_id": note_id(number), "source_kind": kind, "source_value": value, "page": page,
        "rank": rank, "position": rank + 1, "crawled_at": AT, "title": "标题 %d" % number,
        "type": "image", "likes": 10 * number, "likes_text": None,
        "author": {"user_id": CREATOR, "nickname": "咖啡小姐"}, "endpoint": "/api/x/v4",
        "cursor": None if page == 1 else "c%d" % page, **changes,
    }


#: What the store holds: (kind, value) → the note numbers found under it.
SOURCES = {
    ("channel", FOOD): [1, 2],
    ("keyword", COFFEE): [2, 3, 4],
    ("keyword", CAMPING): [5],
    ("user", CREATOR): [3, 6],
    ("topic", TOPIC): [7],
}


def fill(uri: str) -> None:
    """Two runs: the feed's and a search's, a creator's and a topic's, with
    every note's detail, through the store's own write API."""
    feed = [appearance(number, position, channel=FOOD, crawled_at=AT)
            for position, number in enumerate(SOURCES["channel", FOOD], 1)]
    others = [found(number, kind, value, 1 + rank // 2, 1 + rank % 2)
              for (kind, value), numbers in SOURCES.items() if kind != "channel"
              for rank, number in enumerate(numbers)]
    details = [note(number, "标题 %d" % number, crawled_at=AT) for number in range(1, 8)]
    runs = [{"run_id": "feed-1", "crawl_id": "feed-1", "spider": "feed", "started_at": AT,
             "summary": {"channels": {FOOD: 1}}},
            {"run_id": "search-1", "crawl_id": "search-1", "spider": "search", "started_at": AT,
             "summary": {"channels": {}}}]
    creators = [creator(CREATOR, "咖啡小姐", "2026-11-30T09:00:00.000Z"),
                creator(CREATOR, "咖啡小姐 2", AT), creator(TOPIC, "another", AT)]
    with open_store(uri) as store:
        store.write(WriteBatch(run_id="feed-1", appearances=feed, notes=details[:2], runs=runs[:1]))
        store.write(WriteBatch(run_id="search-1", source_appearances=others, notes=details[2:],
                               runs=runs[1:], creators=creators))


def creator(user_id: str, nickname: str, fetched_at: str) -> dict:
    """A CreatorItem's fields."""
    return {"user_id": user_id, "nickname": nickname, "red_id": "123", "description": "",
            "followers": 12000, "following": 3, "notes": 2, "likes_and_collects": None,
            "avatar": None, "fetched_at": fetched_at, "request_id": "r",
            "raw": {"nickname": nickname, "fans": "1.2万"}}


def read(uri: str, query: Query) -> list[dict]:
    dataset = dataset_from_settings(settings(uri))
    with opened(dataset):
        return list(dataset.records(query))


def settings(uri: str) -> Any:
    from scrapy.settings import Settings

    return Settings({"XHS_STORE_URI": uri})


def query(collection: str, *sources: str) -> Query:
    return Query(collection, sources=frozenset(pair for text in sources for pair in parse_source(text)))


def test_export_of_a_keyword_holds_exactly_its_appearances(store_uri: str, tmp_path: Path) -> None:
    fill(store_uri)
    path = tmp_path / "coffee.csv"
    done = run_scrapy(["export", "appearances", "--source", "keyword:咖啡", "-o", str(path)],
                      env={"XHS_STORE_URI": store_uri})
    assert done.returncode == 0, done.stderr
    header, rows = read_export(path)
    assert header == [column.name for column in collection_columns("appearances")]
    assert header[:3] == ["run_id", "note_id", "channel"] and {"source_kind", "source_value", "rank"} <= set(header)
    assert sorted((row["note_id"], row["source_kind"], row["source_value"]) for row in rows) == [
        (note_id(number), "keyword", COFFEE) for number in SOURCES["keyword", COFFEE]]
    assert [row["rank"] for row in rows] == ["1", "2", "1"] and rows[0]["channel"] == ""
    assert "Exported 3 appearances" in done.stdout
    done = run_scrapy(["export", "creators", "-o", str(tmp_path / "creators.csv")], env={"XHS_STORE_URI": store_uri})
    assert done.returncode == 0, done.stderr
    header, rows = read_export(tmp_path / "creators.csv")
    assert header == [column.name for column in collection_columns("creators")] and len(rows) == 2
    assert json.loads(next(row["raw"] for row in rows if row["user_id"] == CREATOR))["fans"] == "1.2万"


def test_each_source_and_channel_reads_its_own_records(filled: str) -> None:
    store_uri = filled
    everything = read(store_uri, Query("appearances"))
    assert len(everything) == sum(map(len, SOURCES.values()))
    feed = [record for record in everything if record["source_kind"] == "channel"]
    assert {record["source_value"] for record in feed} == {FOOD} and all(r["channel"] == FOOD for r in feed)
    for (kind, value), numbers in SOURCES.items():
        records = read(store_uri, query("appearances", "%s:%s" % (kind, value)))
        assert sorted(r["note_id"] for r in records) == sorted(map(note_id, numbers)), (kind, value)
        notes = read(store_uri, query("notes", "%s:%s" % (kind, value)))
        assert sorted(r["note_id"] for r in notes) == sorted(map(note_id, numbers)), (kind, value)
        assert all("%s:%s" % (kind, value) in r["sources"] for r in notes)
        metrics = read(store_uri, query("metrics", "%s:%s" % (kind, value)))
        assert sorted(r["note_id"] for r in metrics) == sorted(map(note_id, numbers)), (kind, value)
    # --channel OID is --source channel:OID; several sources add up; a profile URL names its creator.
    assert read(store_uri, query("appearances", "channel:" + FOOD)) == feed
    both = read(store_uri, query("appearances", "keyword:" + CAMPING,
                                 "user:https://www.xiaohongshu.com/user/profile/" + CREATOR))
    assert sorted(r["note_id"] for r in both) == sorted(map(note_id, [5, 3, 6]))
    assert [r["run_id"] for r in read(store_uri, query("runs", "topic:" + TOPIC))] == ["search-1"]
    assert [r["run_id"] for r in read(store_uri, query("runs", "channel:" + FOOD))] == ["feed-1"]
    assert read(store_uri, query("appearances", "topic:" + "0" * 24)) == []
    # Creators: the newest profile of each; --source user: keeps one.
    creators = read(store_uri, Query("creators"))
    assert [(c["user_id"], c["nickname"], c["run_id"]) for c in creators] == [
        (TOPIC, "another", "search-1"), (CREATOR, "咖啡小姐 2", "search-1")][::-1 if CREATOR < TOPIC else 1]
    assert [c["nickname"] for c in read(store_uri, query("creators", "user:" + CREATOR))] == ["咖啡小姐 2"]
    with pytest.raises(ValueError, match="creators by user:USER_ID only"):
        query("creators", "keyword:" + COFFEE)


@pytest.fixture
def filled(store_uri: str) -> str:
    """A store of each backend holding :data:`SOURCES`."""
    fill(store_uri)
    return store_uri


@pytest.mark.parametrize("text", ["keywrd:咖啡", "keyword:", "keyword", ":咖啡", "user:abc",
                                  "topic:https://example.com/page/topics/" + TOPIC, "channel:homefeed_fod_v3"])
def test_a_malformed_source_is_one_line_naming_the_choices(text: str, tmp_path: Path) -> None:
    commands = [["export", "appearances", "-o", str(tmp_path / "a.csv")]]
    if text.startswith("keyw"):
        commands.append(["report", "-o", str(tmp_path / "r.html")])
    for command in commands:
        done = run_scrapy([*command, "--source", text],
                          env={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'none.sqlite3'}"})
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
        assert "--source" in lines[0] and repr(text.partition(":")[2])[1:-1] in lines[0], lines
        if text.partition(":")[0] not in ("user", "topic", "channel"):
            assert "channel, keyword, user, topic" in lines[0], lines
        assert not (tmp_path / "a.csv").exists() and not (tmp_path / "none.sqlite3").exists()
    assert "Did you mean 'keyword'?" in str(pytest.raises(ValueError, parse_source, "keywrd:x").value)


def test_the_report_has_a_section_per_keyword_creator_and_topic(filled: str, tmp_path: Path) -> None:
    figures = compute(dataset_opened(filled), "2000-01-01T00:00:00.000Z")
    assert [(section.kind, section.value) for section in figures.sources] == [
        ("channel", FOOD), ("keyword", COFFEE), ("keyword", CAMPING), ("user", CREATOR), ("topic", TOPIC)]
    path = tmp_path / "report.html"
    done = run_scrapy(["report", "-o", str(path), "--since", "2000-01-01"], env={"XHS_STORE_URI": filled})
    assert done.returncode == 0, done.stderr
    html = path.read_text("utf-8")
    tables = page_tables(html)
    # The top notes of each source: those it listed (five at most, by likes).
    for (kind, value), numbers in SOURCES.items():
        key = value if kind == "channel" else "%s-%s" % (kind, value)
        assert sorted(row[0] for row in tables["top-" + key]) == sorted(map(note_id, numbers)), key
    assert '<h2 id="keyword-咖啡">Keyword: 咖啡</h2>' in html
    assert "Creator: 咖啡小姐 (%s)" % CREATOR in html and "Topic: %s" % TOPIC in html
    assert f'<h2 id="channel-{FOOD}">{FOOD}</h2>' in html
    per_day = tables["recommendations-per-day"]  # a row per source: its day, then its total
    assert per_day == [[FOOD, "2", "2"], ["keyword:" + COFFEE, "3", "3"], ["keyword:" + CAMPING, "1", "1"],
                       ["user:" + CREATOR, "2", "2"], ["topic:" + TOPIC, "1", "1"]], per_day
    assert "<th>2026-11-30</th>" in html and "<td>keyword:咖啡</td>" in html

    only = tmp_path / "only.html"
    done = run_scrapy(["report", "-o", str(only), "--since", "2000-01-01", "--source", "keyword:咖啡"],
                      env={"XHS_STORE_URI": filled})
    assert done.returncode == 0, done.stderr
    tables = page_tables(only.read_text("utf-8"))
    assert {name for name in tables if name.startswith("top-")} == {"top-keyword-咖啡"}
    assert [row[0] for row in tables["runs"]] == ["search-1"]


def dataset_opened(uri: str) -> Any:
    """The dataset at *uri*, whose records open and close it around each read."""
    dataset = dataset_from_settings(settings(uri))

    class Reading:
        display_uri = dataset.display_uri

        @staticmethod
        def records(wanted: Query) -> list[dict]:
            with opened(dataset):
                return list(dataset.records(wanted))

    return Reading()


OLD_SCHEMA = """
CREATE TABLE notes (note_id TEXT PRIMARY KEY, status TEXT NOT NULL, first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL, detail_fetched_at TEXT, unavailable_at TEXT, channels TEXT NOT NULL,
    detail TEXT, failed_at TEXT, failed_reason TEXT);
CREATE TABLE feed_appearances (run_id TEXT NOT NULL, channel TEXT NOT NULL, page INTEGER NOT NULL,
    position INTEGER NOT NULL, note_id TEXT NOT NULL, crawled_at TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (run_id, channel, page, position));
CREATE TABLE note_metrics (note_id TEXT NOT NULL, fetched_at TEXT NOT NULL, run_id TEXT NOT NULL,
    likes INTEGER, collects INTEGER, comments INTEGER, shares INTEGER, reads INTEGER,
    impressions INTEGER, follows INTEGER, PRIMARY KEY (note_id, fetched_at));
CREATE TABLE runs (run_id TEXT PRIMARY KEY, record TEXT NOT NULL);
"""


def test_a_store_made_before_the_other_sources_reads_as_channels_without_changing(tmp_path: Path) -> None:
    """Export only reads: a store no crawl of this release opened keeps its
    shape, and its feed cards are their channels' appearances."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as database:
        database.executescript(OLD_SCHEMA)
        for position, number in enumerate((1, 2), 1):
            record = {**appearance(number, position, channel=FOOD, crawled_at=AT), "run_id": "old"}
            database.execute("INSERT INTO feed_appearances VALUES (?, ?, 1, ?, ?, ?, ?)",
                             ("old", FOOD, position, note_id(number), AT, json.dumps(record)))
            database.execute("INSERT INTO notes VALUES (?, 'seen', ?, ?, NULL, NULL, ?, NULL, NULL, NULL)",
                             (note_id(number), AT, AT, json.dumps([FOOD])))
    uri = f"sqlite:///{path}"
    records = read(uri, query("appearances", "channel:" + FOOD))
    assert [(r["note_id"], r["source_kind"], r["source_value"]) for r in records] == [
        (note_id(1), "channel", FOOD), (note_id(2), "channel", FOOD)]
    assert read(uri, query("appearances", "keyword:" + COFFEE)) == []
    assert len(read(uri, query("notes", "channel:" + FOOD))) == 2
    assert read(uri, query("notes", "keyword:" + COFFEE)) == []
    with sqlite3.connect(path) as database:  # untouched
        assert "source_kind" not in {row[1] for row in database.execute("PRAGMA table_info(feed_appearances)")}
