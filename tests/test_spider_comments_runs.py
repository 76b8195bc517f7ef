"""The comments spider as ``scrapy crawl`` runs it: bad input refused before
any call, unreadable answers kept and failing the run, a hard kill and a
re-run, two overlapping runs (each paying again at most for the pages in
flight)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxProcess
from tests.conftest import FAST_SETTINGS, ROOT, TOKEN, feed_note_ids, scrapy_command
from tests.test_spider_comments import billed_pages, busy_note, truth_ids
from xhs_spider.store import open_store

#: Every test here starts a process (a crawl).
pytestmark = pytest.mark.integration

CONCURRENT_REQUESTS = 8


@pytest.fixture
def comments_api(api: SandboxProcess) -> SandboxProcess:
    api.configure(comment_shape="mixed", comment_stuck_page=None, unavailable_rate=0)
    return api


def calls(api: SandboxProcess) -> dict[str, int]:
    return {endpoint: count for endpoint, count in api.stats()["calls_by_endpoint"].items() if count}


@pytest.mark.parametrize(("arguments", "message"), [
    (("ids=67f32a94000000001d02eb4a", "max_comments=-1"), "max_comments"),
    (("ids=67f32a94000000001d02eb4a", "sort=hot"), "expected one of"),
    (("stored=true",), "holds no fetched note"),
])
def test_bad_input_is_one_line_exit_2_and_no_call(
    comments_api: SandboxProcess, crawl: Any, arguments: tuple[str, ...], message: str,
) -> None:
    done = crawl("comments", *arguments)
    assert done.returncode == 2, done.stdout[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], done.stdout
    assert calls(comments_api) == {}


def test_an_unreadable_shape_ends_with_its_own_reason_and_keeps_the_raw_answers(
    comments_api: SandboxProcess, crawl: Any, tmp_path: Path,
) -> None:
    note_id = busy_note(comments_api)
    comments_api.configure(comment_shape="unreadable")
    done = crawl("comments", f"ids={note_id}")
    assert done.returncode == 1, done.log[-3000:]
    assert done.stats["finish_reason"] == "justoneapi_unreadable_answers"
    with sqlite3.connect(tmp_path / "xhs.sqlite3") as connection:
        kept = [json.loads(row[0]) for row in connection.execute("SELECT record FROM raw_answers")]
    assert len(kept) == 1 and kept[0]["source_kind"] == "note" and kept[0]["source_value"] == note_id
    assert calls(comments_api) == {"comments": 1}
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        note = store.get_note(note_id)
    # Not recorded as paged: the next run pages the note again.
    assert note is None or note.get("comments_fetched_at") is None


def comments_command(tmp_path: Path, api: SandboxProcess, note_ids: list[str], run: str,
                     settings: dict[str, str], max_replies: int = 0) -> list[str]:
    merged = {**FAST_SETTINGS, "LOG_LEVEL": "INFO", "JUSTONEAPI_BASE_URL": api.url,
              "XHS_STORE_URI": f"sqlite:///{tmp_path / 'xhs.sqlite3'}",
              "CONCURRENT_REQUESTS": str(CONCURRENT_REQUESTS),
              "LOG_FILE": str(tmp_path / f"{run}.log"), **settings}
    args = ["crawl", "comments", "-a", f"ids={','.join(note_ids)}", "-a", "max_comments=1000",
            "-a", f"max_replies={max_replies}"]
    for name, value in merged.items():
        args += ["-s", f"{name}={value}"]
    return scrapy_command(*args)


def start(command: list[str]) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("JUSTONEAPI_", "XHS_"))}
    environment.update(JUSTONEAPI_TOKEN=TOKEN, PYTHONWARNINGS="error::DeprecationWarning")
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def stored_comments(tmp_path: Path, note_id: str) -> Counter[str]:
    """The comments and replies of *note_id* in the store, by id."""
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        return Counter(record["comment_id"] for record in store.records("comments")
                       if record["note_id"] == note_id)


def stored_top_level(tmp_path: Path, note_id: str) -> Counter[str]:
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        return Counter(record["comment_id"] for record in store.records("comments")
                       if record["note_id"] == note_id and record["level"] == 1)


def busy_notes(api: SandboxProcess, count: int = 2) -> list[str]:
    """*count* notes of the feed whose threads hold at least 100 comments and replies."""
    notes = [n for page in (1, 2, 3) for n in feed_note_ids(api, "homefeed_recommend", page)]
    return [note_id for note_id in notes if api.comments(note_id)["count"] >= 100][:count]


def test_a_killed_comments_crawl_run_again_pays_again_at_most_for_pages_in_flight(
    comments_api: SandboxProcess, tmp_path: Path,
) -> None:
    note_ids = busy_notes(comments_api)
    assert len(note_ids) == 2
    comments_api.configure(latency=0.15)
    settings = {"JOBDIR": str(tmp_path / "job")}
    first = start(comments_command(tmp_path, comments_api, note_ids, "run1", settings))
    deadline = time.monotonic() + 60
    while comments_api.stats()["calls_by_endpoint"].get("comments", 0) < 3:
        assert first.poll() is None, "the crawl ended before the point to stop it at"
        assert time.monotonic() < deadline, "the point to stop the crawl at never came"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    second = start(comments_command(tmp_path, comments_api, note_ids, "run2", settings))
    _, stderr = second.communicate(timeout=180)
    assert second.returncode == 0, stderr[-3000:]
    assert "'xhs/comments/notes_resumed': " in (tmp_path / "run2.log").read_text("utf-8")
    for note_id in note_ids:
        truth = comments_api.comments(note_id, "latest")
        assert stored_top_level(tmp_path, note_id) == Counter(c["id"] for c in truth["comments"])
    billed = billed_pages(comments_api)
    paid_again = sum(times - 1 for times in billed.values())
    assert paid_again <= CONCURRENT_REQUESTS, billed


def notes_with_reply_pages(api: SandboxProcess, count: int = 2) -> list[str]:
    """*count* notes of the feed with the most reply pages to ask."""
    notes = [n for page in (1, 2, 3) for n in feed_note_ids(api, "homefeed_recommend", page)]
    pages = {note_id: sum(map(len, api.comments(note_id)["reply_pages"].values())) for note_id in notes}
    return sorted(notes, key=lambda note_id: -pages[note_id])[:count]


def run_until_killed(command: list[str], api: SandboxProcess, endpoint: str, calls: int) -> None:
    """Run *command* and kill -9 it once the sandbox has seen *calls* calls of *endpoint*."""
    process = start(command)
    deadline = time.monotonic() + 60
    while api.stats()["calls_by_endpoint"].get(endpoint, 0) < calls:
        assert process.poll() is None, "the crawl ended before the point to stop it at"
        assert time.monotonic() < deadline, "the point to stop the crawl at never came"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)


def test_a_crawl_killed_while_paging_replies_run_again_stores_every_reply_once(
    comments_api: SandboxProcess, tmp_path: Path,
) -> None:
    note_ids = notes_with_reply_pages(comments_api)
    truths = {note_id: comments_api.comments(note_id, "latest") for note_id in note_ids}
    assert all(len(truth["reply_pages"]) >= 5 for truth in truths.values()), truths
    comments_api.configure(latency=0.15)
    settings = {"JOBDIR": str(tmp_path / "job")}
    run_until_killed(comments_command(tmp_path, comments_api, note_ids, "run1", settings, 1000),
                     comments_api, "sub_comments", 6)
    asked_before = billed_pages(comments_api)
    second = start(comments_command(tmp_path, comments_api, note_ids, "run2", settings, 1000))
    _, stderr = second.communicate(timeout=180)
    assert second.returncode == 0, stderr[-3000:]
    log = (tmp_path / "run2.log").read_text("utf-8")
    assert "'xhs/comments/notes_resumed': " in log
    for note_id, truth in truths.items():
        stored = stored_comments(tmp_path, note_id)
        assert set(stored) == truth_ids(truth) and set(stored.values()) == {1}
    billed = billed_pages(comments_api)
    assert sum(times - 1 for times in billed.values()) <= CONCURRENT_REQUESTS, billed
    # The reply pagings went on where the killed run left them.
    assert any(key.startswith("sub_comments|") and key not in asked_before for key in billed)
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        for note_id in note_ids:
            note = store.get_note(note_id)
            assert note is not None and note["comments_stored"] is not None, note


def test_two_overlapping_runs_do_not_both_page_a_note(
    comments_api: SandboxProcess, tmp_path: Path,
) -> None:
    note_ids = busy_notes(comments_api)
    comments_api.configure(latency=0.05)
    commands = [comments_command(tmp_path, comments_api, note_ids, f"run{n}", {}) for n in (1, 2)]

    def run(command: list[str]) -> int:
        process = start(command)
        process.communicate(timeout=180)
        return process.returncode

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(run, commands)) == [0, 0]
    billed = billed_pages(comments_api)
    # A note the other run paged meanwhile is asked again at most for its first page.
    assert sum(times - 1 for times in billed.values()) <= len(note_ids), billed
    for note_id in note_ids:
        truth = comments_api.comments(note_id, "latest")
        assert stored_top_level(tmp_path, note_id) == Counter(c["id"] for c in truth["comments"])
