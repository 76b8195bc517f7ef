"""``scrapy export comments`` / ``comment_metrics`` and the report's comment
section, on both stores, from records written through the store's own API."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests import test_commands_export
from tests.conftest import run_scrapy
from tests.items import appearance, note, note_id
from tests.test_commands_export import read_export
from tests.test_commands_report import page_tables
from tests.test_dataset_sources import dataset_opened, found, query, read
from xhs_spider.dataset.columns import collection_columns
from xhs_spider.dataset.query import Query
from xhs_spider.report.discussion import discussion
from xhs_spider.store import open_store
from xhs_spider.store.batch import WriteBatch

#: Every test here starts a process (a command or a server).
pytestmark = pytest.mark.integration
mongo, store_uri = test_commands_export.mongo, test_commands_export.store_uri
FOOD, COFFEE = "homefeed_food_v3", "咖啡"
EARLY, LATER = "2026-11-30T10:00:00.000Z", "2026-12-01T08:00:00.000Z"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


def comment(number: int, on: int, *, parent: int | None = None, fetched_at: str = EARLY,
            **changes: Any) -> dict:
    """A CommentItem's fields: comment *number* on note *on* (a reply to *parent*)."""
    return {
        "comment_id": "c%03d" % number, "note_id": note_id(on),
        "parent_id": None if parent is None else "c%03d" % parent, "level": 1 if parent is None else 2,
        "author": {"user_id": "u%d" % number, "nickname": "评论者%d" % number},
        "content": "第%d条评论：好喝！☕" % number, "likes": number, "likes_text": None,
        "created_at": "2026-11-%02dT12:00:00.000Z" % (20 + number % 5), "ip_location": "上海",
        "reply_count": None if parent is not None else 1, "fetched_at": fetched_at,
        "endpoint": "/api/xiaohongshu/get-note-comment/v2", "sort": "latest", **changes,
    }


#: Note 1 and 2 were found under the keyword, note 3 on the channel's feed.
COMMENTS = [
    comment(1, 1), comment(2, 1, parent=1, endpoint="/api/xiaohongshu/get-note-sub-comment/v2"),
    comment(3, 1, content=FORMULA), comment(4, 2, likes=12000, likes_text="1.2万"),
    comment(5, 3, created_at=None),
]
#: The first comment fetched again later, liked more: still one row, the newest.
REFETCHED = comment(1, 1, fetched_at=LATER, likes=40)


def fill(uri: str) -> None:
    details = [note(number, "标题 %d" % number, crawled_at=EARLY) for number in (1, 2, 3)]
    details[0]["counts"] = {**details[0]["counts"], "comments": 3}
    details[1]["counts"] = {**details[1]["counts"], "comments": 9}
    details[2]["counts"] = {**details[2]["counts"], "comments": 1}
    with open_store(uri) as store:
        store.write(WriteBatch(
            run_id="search-1", notes=details,
            appearances=[appearance(3, 1, channel=FOOD, crawled_at=EARLY)],
            source_appearances=[found(1, "keyword", COFFEE, 1, 1, crawled_at=EARLY),
                                found(2, "keyword", COFFEE, 1, 2, crawled_at=EARLY)],
            comments=COMMENTS))
        store.write(WriteBatch(run_id="comments-2", comments=[REFETCHED]))


@pytest.fixture
def filled(store_uri: str) -> str:
    fill(store_uri)
    return store_uri


def export(uri: str, *args: str) -> str:
    done = run_scrapy(["export", *args], env={"XHS_STORE_URI": uri})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_csv_opens_in_a_spreadsheet_one_row_per_comment(filled: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    assert "Exported 5 comments" in export(filled, "comments", "-o", str(path))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "第1条评论：好喝！☕".encode() in raw  # UTF-8, BOM
    header, rows = read_export(path)
    assert header == [column.name for column in collection_columns("comments")]
    assert header[:4] == ["comment_id", "note_id", "parent_id", "level"]
    assert [row["comment_id"] for row in rows] == ["c001", "c002", "c003", "c004", "c005"]
    by_id = {row["comment_id"]: row for row in rows}
    assert (by_id["c002"]["parent_id"], by_id["c002"]["level"], by_id["c002"]["note_id"]) == (
        "c001", "2", note_id(1))
    assert (by_id["c001"]["parent_id"], by_id["c001"]["level"]) == ("", "1")
    # The newest fetch of a comment fetched twice, and when it was first fetched.
    assert (by_id["c001"]["likes"], by_id["c001"]["fetched_at"], by_id["c001"]["first_fetched_at"]) == (
        "40", LATER, EARLY)
    assert by_id["c003"]["content"] == "'" + FORMULA  # a spreadsheet shows it, never runs it
    assert (by_id["c004"]["likes"], by_id["c004"]["likes_text"]) == ("12000", "1.2万")
    assert by_id["c001"]["author.nickname"] == "评论者1" and by_id["c005"]["created_at"] == ""


def test_json_lines_and_parquet_round_trip(filled: str, tmp_path: Path) -> None:
    export(filled, "comments", "-o", str(tmp_path / "c.jsonl"))
    _, rows = read_export(tmp_path / "c.jsonl")
    first = rows[0]
    assert first["content"] == "第1条评论：好喝！☕" and first["level"] == 1 and first["parent_id"] is None
    assert first["likes"] == 40 and first["author.user_id"] == "u1" and rows[1]["level"] == 2
    assert rows[2]["content"] == FORMULA  # JSON is not a spreadsheet: the text as written

    export(filled, "comments", "-o", str(tmp_path / "c.parquet"))
    table = pq.read_table(tmp_path / "c.parquet")
    assert table.schema.field("level").type == pa.int64() and table.schema.field("likes").type == pa.int64()
    assert table.schema.field("created_at").type == pa.timestamp("ms", tz="UTC")
    parquet = table.to_pylist()
    assert [row["comment_id"] for row in parquet] == [row["comment_id"] for row in rows]
    assert parquet[0]["created_at"] == datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
    assert parquet[3]["likes"] == 12000 and parquet[4]["created_at"] is None
    assert parquet[1]["parent_id"] == "c001" and parquet[1]["content"] == rows[1]["content"]


def test_sources_pick_the_notes_and_since_the_fetches(filled: str) -> None:
    def ids(wanted: Query) -> list[str]:
        return [record["comment_id"] for record in read(filled, wanted)]

    assert ids(query("comments", "keyword:" + COFFEE)) == ["c001", "c002", "c003", "c004"]
    assert ids(query("comments", "channel:" + FOOD)) == ["c005"]
    assert ids(query("comments", "topic:" + "0" * 24)) == []
    assert ids(Query("comments", since=LATER)) == ["c001"]
    # The likes over time: a snapshot per fetch.
    snapshots = read(filled, Query("comment_metrics"))
    assert [(s["comment_id"], s["fetched_at"], s["likes"]) for s in snapshots if s["comment_id"] == "c001"] == [
        ("c001", EARLY, 1), ("c001", LATER, 40)]
    assert {s["note_id"] for s in read(filled, query("comment_metrics", "channel:" + FOOD))} == {note_id(3)}
    assert len(read(filled, Query("comment_metrics", since=LATER))) == 1


def test_the_command_filters_by_channel_and_since(filled: str, tmp_path: Path) -> None:
    path = tmp_path / "food.csv"
    assert "Exported 1 comments" in export(filled, "comments", "--channel", FOOD, "-o", str(path))
    assert [row["note_id"] for row in read_export(path)[1]] == [note_id(3)]
    path = tmp_path / "recent.jsonl"
    assert "Exported 1 comments" in export(filled, "comments", "--since", "2026-12-01", "-o", str(path))
    path = tmp_path / "likes.csv"
    assert "Exported 1 comment_metrics" in export(
        filled, "comment_metrics", "--source", "keyword:" + COFFEE, "--since", "2026-12-01T00:00",
        "-o", str(path))
    header, rows = read_export(path)
    assert header == [column.name for column in collection_columns("comment_metrics")]
    assert [(row["comment_id"], row["likes"]) for row in rows] == [("c001", "40")]


def test_the_report_shows_the_most_discussed_notes_and_comments_per_day(filled: str, tmp_path: Path) -> None:
    figures = discussion(dataset_opened(filled), "2026-11-01T00:00:00.000Z")
    assert [(n.note_id, n.stored, n.counter) for n in figures.by_stored] == [
        (note_id(1), 3, 3), (note_id(2), 1, 9), (note_id(3), 1, 1)]
    assert [n.note_id for n in figures.by_counter] == [note_id(2), note_id(1), note_id(3)]
    assert figures.comments == 5
    # created_at: c001 on the 21st, c002 the 22nd, c003 the 23rd, c004 the 24th; c005 unknown.
    assert figures.per_day == {"2026-11-21": 1, "2026-11-22": 1, "2026-11-23": 1, "2026-11-24": 1}

    path = tmp_path / "report.html"
    done = run_scrapy(["report", "-o", str(path), "--since", "2026-11-01", "--source", "keyword:" + COFFEE],
                      env={"XHS_STORE_URI": filled})
    assert done.returncode == 0, done.stderr
    tables = page_tables(path.read_text("utf-8"))
    assert [row[:3] for row in tables["discussed-stored"]] == [[note_id(1), "标题 1", "3"], [note_id(2), "标题 2", "1"]]
    assert [(row[0], row[3]) for row in tables["discussed-counter"]] == [(note_id(2), "9"), (note_id(1), "3")]
    assert tables["comments-per-day"] == [["2026-11-21", "1"], ["2026-11-22", "1"], ["2026-11-23", "1"],
                                          ["2026-11-24", "1"]]


def test_a_store_without_comments_reports_and_exports_none(store_uri: str, tmp_path: Path) -> None:
    detail = note(1, "标题", crawled_at=EARLY)
    detail["counts"] = {**detail["counts"], "comments": 7}
    with open_store(store_uri) as store:
        store.write(WriteBatch(run_id="feed-1", appearances=[appearance(1, 1, channel=FOOD, crawled_at=EARLY)],
                               notes=[detail]))
    path = tmp_path / "none.csv"
    assert "Exported 0 comments" in export(store_uri, "comments", "-o", str(path))
    assert read_export(path) == ([column.name for column in collection_columns("comments")], [])
    report = tmp_path / "r.html"
    done = run_scrapy(["report", "-o", str(report), "--since", "2026-11-01"], env={"XHS_STORE_URI": store_uri})
    assert done.returncode == 0, done.stderr
    html = report.read_text("utf-8")
    assert "No comment in the store for these notes" in html and "discussed-stored" not in html
    # The details' comment counters rank the notes all the same.
    assert [(row[0], row[2], row[3]) for row in page_tables(html)["discussed-counter"]] == [
        (note_id(1), "0", "7")]
