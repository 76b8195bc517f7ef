"""``scrapy health``, the dead-man check, and the checks it shares with the monitors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxProcess
from tests.conftest import run_scrapy
from xhs_spider.dataset.query import iso_utc
from xhs_spider.monitoring.checks import (
    API_FAILURES,
    BILLED_PER_NOTE,
    FIELD_COVERAGE,
    FINISH_REASON,
    ITEM_COUNT,
    Limits,
    earlier_runs,
    health_problems,
    parse_max_age,
    run_problems,
)
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.sqlite import SqliteNoteStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def record(run_id: str, *, minutes_ago: float = 10, reason: str | None = "finished",
           items: int = 100, spider: str = "feed", arguments: dict | None = None,
           requests: int = 60, give_ups: int = 0, rate_limited: int = 0,
           crawl_id: str = "c") -> dict[str, Any]:
    at = iso_utc(NOW - timedelta(minutes=minutes_ago))
    stored = items // 2
    return {
        "run_id": run_id, "crawl_id": crawl_id, "spider": spider,
        "arguments": arguments or {"oid": "homefeed_food_v3", "pages": 5},
        "started_at": at, "finished_at": at if reason else None, "finish_reason": reason,
        "summary": {"appearances": items - stored, "notes": {"stored": stored},
                    "api": {"requests": requests, "billed": requests - give_ups,
                            "give_ups": give_ups, "by_code": {"302": rate_limited}}},
    }


def test_each_check_fails_on_its_own_figure() -> None:
    limits = Limits()
    earlier = [record(f"r{i}", minutes_ago=60 - i) for i in range(3)]
    assert run_problems(record("ok"), earlier, limits, {"title": 1.0}) == {}
    problems = run_problems(
        record("bad", reason="justoneapi_invalid_token", items=50, give_ups=6, rate_limited=9),
        earlier, limits, {"title": 0.5, "likes": 1.0, "user": 0.95})
    assert sorted(problems) == sorted([FINISH_REASON, ITEM_COUNT, FIELD_COVERAGE, API_FAILURES])
    assert problems[ITEM_COUNT].startswith("50 items, 50% below the average of 100 of the last 3 runs")
    assert problems[FIELD_COVERAGE] == "notes with title 50%, under XHS_HEALTH_MIN_COVERAGE 90%"
    assert "6 of 60 calls given up on" in problems[API_FAILURES]
    assert "9 of 60 calls answered 302" in problems[API_FAILURES]
    costly = record("costly", items=20, requests=40)  # 40 billed calls for 10 notes
    assert "4.0 a note" in run_problems(costly, [], limits)[BILLED_PER_NOTE]
    # A drop within XHS_HEALTH_MAX_DROP is no problem.
    assert run_problems(record("fewer", items=61), earlier, limits) == {}


def test_only_good_earlier_runs_of_the_same_job_are_compared() -> None:
    runs = [record("other-args", minutes_ago=50, arguments={"oid": "x"}),
            record("failed", minutes_ago=40, reason="shutdown"),
            record("killed", minutes_ago=35, reason=None),
            record("other-spider", minutes_ago=30, spider="note"),
            *(record(f"same{i}", minutes_ago=20 - i) for i in range(4)),
            record("later", minutes_ago=1)]
    current = record("now", minutes_ago=5)
    assert [run["run_id"] for run in earlier_runs(current, runs, 3)] == ["same1", "same2", "same3"]


def test_the_dead_man_check_judges_the_last_finished_run_of_each_spider() -> None:
    hour, limits = timedelta(hours=1), Limits()

    def problems(runs: list[dict], **scope: Any) -> list[str]:
        return health_problems(runs, max_age=hour, limits=limits, now=NOW, **scope)

    good = record("good", minutes_ago=30)
    assert problems([good]) == []
    assert problems([good, record("running", minutes_ago=1, reason=None)]) == []
    assert problems([good, record("failed", minutes_ago=5, reason="justoneapi_daily_quota_exceeded")]) == [
        f"feed: last run failed (finished {iso_utc(NOW - timedelta(minutes=5))}): finish reason "
        "justoneapi_daily_quota_exceeded (exit status 1)"]
    old = problems([record("old", minutes_ago=130)])
    assert len(old) == 1 and old[0].endswith(": 2 h 10 min ago, older than --max-age 1 h 0 min")
    assert problems([good, record("n", spider="note", minutes_ago=90)], spider="feed") == []
    assert len(problems([good, record("n", spider="note", minutes_ago=90)])) == 1
    assert problems([good], crawl_id="other") == ["no run of crawl other in the store"]
    assert problems([], spider="feed") == ["no run of spider feed in the store"]
    # A dry run makes no call: it neither hides an old last good run nor counts as one.
    dry = record("dry", minutes_ago=1, reason="dry_run")
    assert problems([record("old", minutes_ago=130), dry]) == old
    assert problems([dry]) == ["no run at all in the store"]


def test_max_age_is_a_span() -> None:
    assert parse_max_age("2h") == timedelta(hours=2)
    assert parse_max_age("90m") == timedelta(minutes=90)
    for bad in ("2", "0h", "1w", "soon"):
        with pytest.raises(ValueError, match="--max-age"):
            parse_max_age(bad)


# The command, as cron calls it -------------------------------------------------


def health(store: Path, *args: str) -> tuple[int, list[str]]:
    done = run_scrapy(["health", *args], env={"XHS_STORE_URI": f"sqlite:///{store}"})
    return done.returncode, (done.stdout + done.stderr).splitlines()


@pytest.mark.integration
def test_health_after_a_good_run_a_failed_one_and_an_old_one(crawl, api: SandboxProcess,
                                                             tmp_path: Path) -> None:
    store = tmp_path / "xhs.sqlite3"
    good = crawl("feed", "oid=homefeed_food_v3", "pages=1")
    assert good.returncode == 0
    assert health(store, "--max-age", "1h") == (0, [])

    with SqliteNoteStore(store) as opened:  # that run ended two hours ago
        (run,) = opened.find_runs()
        two_hours_ago = iso_utc(datetime.now(timezone.utc) - timedelta(hours=2))
        opened.write(WriteBatch(run_id=run["run_id"], runs=[
            {"run_id": run["run_id"], "finished_at": two_hours_ago}]))
    status, lines = health(store, "--max-age", "1h")
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith(f"feed: last run {run['run_id']} (finished {two_hours_ago}): 2 h")
    assert lines[0].endswith("ago, older than --max-age 1 h 0 min")
    status, lines = health(store, "--max-age", "3h", "--json")
    assert status == 0 and json.loads(lines[0]) == {"healthy": True, "problems": []}

    api.configure(quota=api.stats()["billed"] + 2)
    failed = crawl("feed", "oid=homefeed_food_v3", "pages=2", settings={"XHS_DETAIL_TTL": "0"})
    assert failed.returncode == 1
    status, lines = health(store, "--max-age", "1h")
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("feed: last run feed-")
    assert "finish reason justoneapi_daily_quota_exceeded (exit status 1)" in lines[0]


@pytest.mark.integration
def test_health_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    assert health(tmp_path / "none.sqlite3", "--max-age", "soon") == (
        2, ["Error: --max-age 'soon' is not a span such as 30m, 2h or 1d"])
    status, lines = health(tmp_path / "none.sqlite3")
    assert status == 2 and len(lines) == 1 and lines[0].startswith("Error: ")
