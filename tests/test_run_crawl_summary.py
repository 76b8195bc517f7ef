"""The figures of a whole crawl from its runs' records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_scrapy
from tests.test_commands_export import unreachable_mongodb_uri
from xhs_spider.outcome.crawl_summary import (
    UNFINISHED,
    crawl_summary,
    format_crawl_summary,
    format_recent_crawls,
    recent_crawls,
)
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.sqlite import SqliteNoteStore


def run(run_id: str, crawl_id: str, reason: str | None, finished_at: str | None,
        requests: int) -> dict[str, Any]:
    record: dict[str, Any] = {"run_id": run_id, "crawl_id": crawl_id, "started_at": "2026-11-30T10"}
    if reason is not None:
        record.update(finish_reason=reason, finished_at=finished_at, summary={
            "feed_pages": 1, "appearances": 10,
            "notes": {"new": requests - 1, "stored": requests - 1},
            "api": {"requests": requests, "billed": requests, "by_code": {"0": requests}},
        })
    return record


def test_the_runs_of_one_crawl_add_up_and_the_last_to_end_names_the_outcome() -> None:
    runs = [
        run("a", "shared", "finished", "2026-11-30T10:05", 10),
        run("killed", "shared", None, None, 0),
        run("b", "shared", "justoneapi_budget_exhausted", "2026-11-30T10:03", 5),
        run("other", "another", "finished", "2026-11-30T10:09", 99),
    ]
    summary = crawl_summary("shared", runs)
    assert [r["run_id"] for r in summary["runs"]] == ["a", "killed", "b"]
    assert summary["runs"][1]["finish_reason"] == UNFINISHED
    assert summary["api"]["requests"] == 15 and summary["api"]["by_code"] == {"0": 15}
    assert summary["notes"]["stored"] == 13 and summary["feed_pages"] == 2
    # b stopped on its budget, a went on and finished the crawl after it.
    assert summary["outcome"] == "finished"
    assert "finished (3 runs)" in format_crawl_summary(summary)


def test_a_crawl_whose_last_run_failed_did_not_finish() -> None:
    runs = [run("a", "c", "finished", "2026-11-30T10:01", 3),
            run("b", "c", "justoneapi_daily_quota_exceeded", "2026-11-30T10:02", 3)]
    assert crawl_summary("c", runs)["outcome"] == "justoneapi_daily_quota_exceeded"
    assert crawl_summary("c", [run("k", "c", None, None, 0)])["outcome"] == UNFINISHED


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    """A store holding three crawls: one finished, one failed, one killed."""
    runs = [run("a", "done", "justoneapi_budget_exhausted", "2026-11-30T10:01", 3),
            run("b", "done", "finished", "2026-11-30T10:02", 3),
            run("c", "failed", "finished", "2026-11-30T10:01", 3),
            run("d", "failed", "justoneapi_budget_exhausted", "2026-11-30T10:02", 3),
            run("k", "killed", None, None, 0)]
    with SqliteNoteStore(str(tmp_path / "xhs.sqlite3")) as store:
        store.write(WriteBatch(run_id="setup", runs=runs))
    return f"sqlite:///{tmp_path / 'xhs.sqlite3'}"


@pytest.mark.parametrize(("crawl_id", "outcome", "status"), [
    ("done", "finished", 0),
    ("failed", "justoneapi_budget_exhausted", 1),
    ("killed", UNFINISHED, 1),
])
@pytest.mark.integration
def test_the_exit_status_says_whether_the_crawl_finished(store_uri, crawl_id, outcome, status):
    done = run_scrapy(["crawl-summary", crawl_id, "--json"], env={"XHS_STORE_URI": store_uri})
    assert done.returncode == status, done.stderr
    assert json.loads(done.stdout)["outcome"] == outcome  # the summary is printed either way


@pytest.mark.integration
def test_an_unreachable_store_is_exit_1_and_a_malformed_uri_exit_2():
    for uri, status, problem in ((unreachable_mongodb_uri(), 1, "127.0.0.1:"),
                                 ("mongodb://reader:s3cret-pw@db:99999/xhs", 2, "malformed")):
        done = run_scrapy(["crawl-summary", "any"], env={"XHS_STORE_URI": uri})
        lines = done.stderr.strip().splitlines()
        assert done.returncode == status and len(lines) == 1 and problem in lines[0], done.stderr
        assert "s3cret-pw" not in done.stdout + done.stderr and "reader:***@" in lines[0]


def test_the_recent_crawls_are_listed_latest_first_with_their_outcomes() -> None:
    runs = [{**run("a", "old", "finished", "2026-11-30T10:01", 3), "started_at": "2026-11-29T10:00"},
            {**run("b", "new", "justoneapi_budget_exhausted", "2026-11-30T11:01", 3),
             "started_at": "2026-11-30T11:00"},
            {**run("c", "old", "finished", "2026-11-30T12:01", 3), "started_at": "2026-11-30T12:00"},
            {"run_id": "x", "started_at": "2026-12-01T00:00"}]  # no crawl id: not listed
    crawls = recent_crawls(runs)
    assert [(c["crawl_id"], c["runs"], c["last_started_at"], c["outcome"]) for c in crawls] == [
        ("old", 2, "2026-11-30T12:00", "finished"),
        ("new", 1, "2026-11-30T11:00", "justoneapi_budget_exhausted")]
    assert recent_crawls(runs, limit=1) == crawls[:1]
    text = format_recent_crawls(crawls, "sqlite:///x")
    assert "old  last run started 2026-11-30T12:00, 2 runs, outcome finished" in text
    assert "new  last run started 2026-11-30T11:00, 1 run, outcome justoneapi_budget_exhausted" in text
    assert format_recent_crawls([], "sqlite:///x") == "No crawl in sqlite:///x yet."
    assert "finished (1 run)" in format_crawl_summary(crawl_summary("new", runs[1:2]) | {"outcome": "finished"})


def test_calls_and_billed_calls_add_up_per_endpoint_across_the_runs() -> None:
    first = run("a", "shared", "finished", "2026-11-30T10:05", 7)
    first["summary"]["api"]["by_endpoint"] = {
        "search": {"requests": 3, "billed": 3}, "detail": {"requests": 4, "billed": 3}}
    second = run("b", "shared", "finished", "2026-11-30T10:06", 5)
    second["summary"]["api"]["by_endpoint"] = {
        "search": {"requests": 2, "billed": 1}, "share": {"requests": 1, "billed": 1}}
    older = run("c", "shared", "finished", "2026-11-30T10:04", 2)  # a record made before by_endpoint
    summary = crawl_summary("shared", [first, second, older])
    assert summary["api"]["by_endpoint"] == {
        "detail": {"requests": 4, "billed": 3}, "search": {"requests": 5, "billed": 4},
        "share": {"requests": 1, "billed": 1}}
    assert "by endpoint    detail 4/3, search 5/4, share 1/1 (sent/billed)" in format_crawl_summary(summary)
    assert "by endpoint    none" in format_crawl_summary(crawl_summary("shared", [older]))
