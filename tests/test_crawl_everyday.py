"""Everyday use: exports, the note spider, channels, run summary, budget."""

from __future__ import annotations

import csv
import json
import re

from tests.conftest import feed_note_ids, run_scrapy
from xhs_spider.exporters import csv_columns
from xhs_spider.api.normalize import now_iso
from xhs_spider.schemas import load_schema
from xhs_spider.store import WriteBatch, open_store

CJK_ESCAPE = re.compile(r"\\u[4-9a-f][0-9a-f]{3}", re.IGNORECASE)


def test_feeds_for_spreadsheets_and_notebooks_match_the_store(crawl, api, tmp_path):
    out = tmp_path / "out"
    feeds = {
        str(out / "notes.csv"): {"format": "csv", "item_classes": ["xhs_spider.items.NoteItem"]},
        str(out / "appearances.csv"): {"format": "csv", "item_classes": ["xhs_spider.items.FeedAppearanceItem"]},
        str(out / "notes.jsonl"): {"format": "jsonlines", "item_classes": ["xhs_spider.items.NoteItem"]},
    }
    result = crawl("feed", "oid=homefeed_food_v3,homefeed_travel_v3", "pages=2", settings={"FEEDS": json.dumps(feeds)})
    assert result.finish_reason == "finished"

    raw = (out / "notes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw[3:].startswith(b"\xef\xbb\xbf")
    with (out / "notes.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, notes = rows[0], rows[1:]
    assert header == csv_columns(load_schema("note"))
    with (out / "appearances.csv").open(encoding="utf-8-sig", newline="") as handle:
        appearance_rows = list(csv.DictReader(handle))
    jsonl_text = (out / "notes.jsonl").read_text("utf-8")
    assert not CJK_ESCAPE.search(jsonl_text)
    from_json = [json.loads(line) for line in jsonl_text.splitlines()]

    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        assert len(notes) == len(from_json) == store.count("note_metrics")
        assert len(appearance_rows) == store.count("feed_appearances")
    titles_csv = {row[0]: row[header.index("title")] for row in notes}
    titles_json = {note["note_id"]: note["title"] for note in from_json}
    assert titles_csv == titles_json
    assert any(re.search(r"[\u4e00-\u9fff]", title) for title in titles_csv.values())
    urls = {row[0]: row[header.index("images.url")] for row in notes}
    for note in from_json:
        assert urls[note["note_id"]] == " | ".join(image["url"] for image in note["images"])


def test_note_spider_reads_an_ids_file(crawl, api, tmp_path):
    ids = feed_note_ids(api, "homefeed_food_v3", 1)[:4]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(
        "\n".join(
            [
                "# notes to refresh",
                ids[0],
                f"https://www.xiaohongshu.com/explore/{ids[1]}?xsec_token=AB12cd&xsec_source=pc_feed",
                "",
                f"https://www.xiaohongshu.com/discovery/item/{ids[2]}?app_platform=ios",
                "not a note id",
                f"{ids[3]}  # an inline comment",
                ids[0],
                "http://xhslink.com/a/Zx81bQ",
            ]
        ),
        encoding="utf-8",
    )
    result = crawl("note", f"ids_file={ids_file}")

    assert result.finish_reason == "finished"
    assert api.stats()["detail_billed_by_note"] == {note_id: 1 for note_id in ids}
    bad = [line for line in result.log.splitlines() if "holds no note id" in line]
    assert len(bad) == 2
    assert "line 6" in bad[0] and "line 9" in bad[1]
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        assert store.count("note_metrics") == 4

    again = crawl("note", f"ids={ids[0]},{ids[1]}")
    assert again.stats["xhs/notes/refreshed"] == 2
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        assert store.count("note_metrics") == 6


def test_stale_refreshes_exactly_the_notes_older_than_the_ttl(crawl, api, tmp_path):
    uri = f"sqlite:///{tmp_path / 'xhs.sqlite3'}"
    ids = feed_note_ids(api, "homefeed_pets_v3", 1)[:6]
    old, recent = ids[:3], ids[3:]
    with open_store(uri) as store:
        batch = WriteBatch(run_id="seed")
        for note_id, at in [(n, "2020-01-01T00:00:00Z") for n in old] + [(n, now_iso()) for n in recent]:
            batch.notes.append(_minimal_note(note_id, at))
        store.write(batch)

    result = crawl("note", "stale=true")

    assert result.finish_reason == "finished"
    assert set(api.stats()["detail_billed_by_note"]) == set(old)


def _minimal_note(note_id, crawled_at):
    return {
        "note_id": note_id, "url": f"https://www.xiaohongshu.com/explore/{note_id}", "type": "image",
        "title": "旧笔记", "text": "", "hashtags": [], "images": [], "video": None,
        "author": {"user_id": "u1", "nickname": "某人"},
        "counts": {"likes": 1, "collects": 0, "comments": 0, "shares": 0},
        "published_at": None, "updated_at": None, "crawled_at": crawled_at, "request_id": None,
    }


def test_channels_command_lists_all_41():
    done = run_scrapy(["channels"])
    assert done.returncode == 0
    lines = [line for line in done.stdout.splitlines() if line.startswith("homefeed_")]
    assert len(lines) == 41
    assert any(re.match(r"homefeed_food_v3\s+food$", line) for line in lines)


def test_summary_counts_what_the_sandbox_billed(crawl, api, tmp_path):
    api.configure(faults={"301": 0.1, "302": 0.05})
    result = crawl("feed", "oid=homefeed_food_v3", "pages=2")

    billed = api.stats()["billed"]
    block = result.log[result.log.index("Run summary"):]
    assert f"{billed} billed" in block
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        (run,) = store.find_runs()
    assert run["finish_reason"] == "finished"
    assert run["summary"]["api"]["billed"] == billed
    assert run["summary"]["notes"]["new"] == len({a["note_id"] for a in result.appearances})
    assert run["arguments"] == {"oid": "homefeed_food_v3", "pages": "2"}
    assert run["summary"]["finish_reason"] == "finished"


def test_budget_stops_the_crawl(crawl, api):
    result = crawl(
        "feed", "oid=homefeed_food_v3,homefeed_travel_v3", "pages=3",
        settings={"JUSTONEAPI_MAX_BILLED_CALLS": "10", "CONCURRENT_REQUESTS": "4"},
    )
    assert result.finish_reason == "justoneapi_budget_exhausted"
    assert result.returncode == 1
    # Calls in flight count against the budget: it is never overshot.
    assert api.stats()["billed"] == 10
    assert result.stats["justoneapi/billed"] == 10
