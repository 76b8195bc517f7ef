"""A comments crawl against the sandbox, seen downstream: the run summary,
the run record, ``crawl-summary`` and ``scrapy export comments`` agree with
what the sandbox served and with its ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import SandboxProcess
from tests.conftest import feed_note_ids, run_scrapy
from tests.test_commands_export import read_export
from xhs_spider.store import open_store

#: Every test here starts a process (a crawl or a command).
pytestmark = pytest.mark.integration


def small_thread(api: SandboxProcess) -> tuple[str, dict]:
    """A note of the food channel with a few comments, some with replies, and its ground truth."""
    truths = [api.comments(note_id) for note_id in feed_note_ids(api, "homefeed_food_v3", 1)]
    fitting = [truth for truth in truths if 10 < truth["count"] <= 60 and truth["replies"]]
    truth = min(fitting or truths, key=lambda each: each["count"])
    return truth["noteId"], truth


def test_a_comments_run_is_summed_up_stored_and_exported(crawl, api: SandboxProcess, tmp_path: Path) -> None:
    api.configure(unavailable_rate=0)
    note_id, truth = small_thread(api)
    done = crawl("comments", "ids=" + note_id, "max_comments=1000", "max_replies=1000")
    assert done.returncode == 0, done.stdout[-3000:]
    served = api.stats()
    pages = (served["calls_by_endpoint"]["comments"], served["billed_by_endpoint"]["comments"])
    replies = (served["calls_by_endpoint"].get("sub_comments", 0), served["billed_by_endpoint"].get("sub_comments", 0))
    block = done.log[done.log.index("Run summary"):]
    assert ("  comments       %d new, 0 updated; comment pages %d/%d, reply pages %d/%d (sent/billed)"
            % (truth["count"], *pages, *replies)) in block.splitlines(), block
    assert "  comment notes  1 paged, 0 skipped as fresh" in block

    uri = f"sqlite:///{tmp_path / 'xhs.sqlite3'}"
    with open_store(uri) as store:
        (run,) = store.find_runs()
    figures = run["summary"]["comments"]
    assert (figures["new"], figures["updated"], figures["notes"]) == (truth["count"], 0, 1)
    assert (figures["pages"]["requests"], figures["pages"]["billed"]) == pages
    assert (figures["reply_pages"]["requests"], figures["reply_pages"]["billed"]) == replies

    summed = run_scrapy(["crawl-summary", run["crawl_id"], "--json"], env={"XHS_STORE_URI": uri})
    assert summed.returncode == 0, summed.stderr
    assert json.loads(summed.stdout)["comments"] == figures | {"notes_skipped_fresh": 0,
                                                               "notes_claimed_elsewhere": 0}

    path = tmp_path / "comments.csv"
    exported = run_scrapy(["export", "comments", "-o", str(path)], env={"XHS_STORE_URI": uri})
    assert exported.returncode == 0, exported.stderr
    _, rows = read_export(path)
    expected = {each["id"]: ("", "1") for each in truth["comments"]}
    expected |= {each["id"]: (each["parent_id"], "2") for each in truth["replies"]}
    assert len(rows) == truth["count"]  # every comment and reply once
    assert {row["comment_id"]: (row["parent_id"], row["level"]) for row in rows} == expected
    assert {row["note_id"] for row in rows} == {note_id}
