"""The ready SQLite queries of docs/storage.md run against a crawled store."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

STORAGE_PAGE = Path(__file__).resolve().parent.parent / "docs" / "storage.md"


def documented_query(name: str) -> str:
    match = re.search(rf"<!-- query: {name} -->\s*```\w+\n(.*?)```", STORAGE_PAGE.read_text("utf-8"), re.S)
    assert match, f"no query {name} in docs/storage.md"
    return match.group(1)


def test_top_notes_per_channel_and_likes_growth(crawl, api, tmp_path):
    crawl("feed", "oid=homefeed_food_v3,homefeed_travel_v3", "pages=2")
    crawl("feed", "oid=homefeed_food_v3", "pages=1", "refresh=true")
    database = sqlite3.connect(tmp_path / "xhs.sqlite3")
    try:
        top = database.execute(documented_query("top-notes-sqlite")).fetchall()
        growth = database.execute(documented_query("growth-sqlite")).fetchall()
    finally:
        database.close()

    assert {row[0] for row in top} == {"homefeed_food_v3", "homefeed_travel_v3"}
    for channel in ("homefeed_food_v3", "homefeed_travel_v3"):
        likes = [row[3] for row in top if row[0] == channel]
        assert likes == sorted(likes, reverse=True) and len(likes) == 5
    # The sandbox grows a note's counters each time it is fetched again, so
    # every refreshed note has grown, and the largest growth comes first.
    assert growth and len({row[0] for row in growth}) == len(growth)
    assert all(row[3] == row[2] - row[1] > 0 for row in growth)
    assert [row[3] for row in growth] == sorted((row[3] for row in growth), reverse=True)


def test_every_sqlite_query_of_the_page_is_run_above():
    text = STORAGE_PAGE.read_text("utf-8")
    assert text.count("```sql") == len(re.findall(r"<!-- query: [\w-]+ -->\s*```sql", text))
    assert set(re.findall(r"<!-- query: ([\w-]+-sqlite) -->", text)) == {"top-notes-sqlite", "growth-sqlite"}
