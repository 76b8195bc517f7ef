"""Hard stops: a crawl killed mid-way and run again pays once and loses nothing.

Subprocess crawls, killed with SIGKILL (or Ctrl-C twice) at chosen points,
then the same command again; the store and the sandbox's billing say what
was kept and what was paid for twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxProcess
from tests.conftest import FAST_SETTINGS, ROOT, TOKEN, feed_note_ids, scrapy_command
from xhs_spider.store import open_store

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

CHANNELS = ("homefeed_food_v3", "homefeed_travel_v3")
PAGES = 3
CONCURRENT_REQUESTS = 8
KILL_TIMEOUT = 60.0


class Crawler:
    """The same ``scrapy crawl feed`` command, started as often as needed."""

    def __init__(self, api: SandboxProcess, tmp_path: Path, *, jobdir: bool, extra: dict[str, str]):
        self.api = api
        self.store_uri = f"sqlite:///{tmp_path / 'xhs.sqlite3'}"
        self.runs = 0
        settings = {
            **FAST_SETTINGS, "LOG_LEVEL": "INFO", "JUSTONEAPI_BASE_URL": api.url,
            "XHS_STORE_URI": self.store_uri, "CONCURRENT_REQUESTS": str(CONCURRENT_REQUESTS),
            **extra,
        }
        if jobdir:
            settings["JOBDIR"] = str(tmp_path / "job")
        self.args = ["crawl", "feed", "-a", f"oid={','.join(CHANNELS)}", "-a", f"pages={PAGES}"]
        for name, value in settings.items():
            self.args += ["-s", f"{name}={value}"]
        self.tmp_path = tmp_path

    def start(self) -> subprocess.Popen[str]:
        self.runs += 1
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("JUSTONEAPI_", "XHS_"))}
        environment.update(JUSTONEAPI_TOKEN=TOKEN, PYTHONWARNINGS="error::DeprecationWarning")
        log = self.tmp_path / f"run{self.runs}.log"
        return subprocess.Popen(
            [*scrapy_command(*self.args), "-s", f"LOG_FILE={log}"], cwd=ROOT, env=environment,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )

    def run_to_the_end(self) -> int:
        process = self.start()
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr[-3000:] + self.log(self.runs)[-3000:]
        return process.returncode

    def log(self, run: int) -> str:
        path = self.tmp_path / f"run{run}.log"
        return path.read_text("utf-8") if path.exists() else ""

    def stop_when(self, process: subprocess.Popen[str], ready: Callable[[dict[str, Any]], bool],
                  how: Callable[[subprocess.Popen[str]], None]) -> None:
        deadline = time.monotonic() + KILL_TIMEOUT
        while not ready(self.api.stats()):
            assert process.poll() is None, "the crawl ended before the point to stop it at"
            assert time.monotonic() < deadline, "the point to stop the crawl at never came"
            time.sleep(0.02)
        how(process)
        process.communicate(timeout=60)  # waits, and closes the pipe


def every_note_in_the_feeds(api: SandboxProcess) -> set[str]:
    return {n for channel in CHANNELS for page in range(1, PAGES + 1) for n in feed_note_ids(api, channel, page)}


def assert_every_note_stored_once(crawler: Crawler, kills: int) -> None:
    expected = every_note_in_the_feeds(crawler.api)
    with open_store(crawler.store_uri) as store:
        notes = {note["note_id"]: note for note in store.iter_notes()}
        runs = store.find_runs()
    assert set(notes) == expected
    statuses = {note_id: note["status"] for note_id, note in notes.items()}
    assert {s for s in statuses.values()} <= {"ok", "unavailable"}, [
        n for n, s in statuses.items() if s not in ("ok", "unavailable")
    ]
    billed = crawler.api.stats()["detail_billed_by_note"]
    assert set(billed) == expected
    paid_twice = [note_id for note_id, times in billed.items() if times > 1]
    assert len(paid_twice) <= CONCURRENT_REQUESTS * kills, billed
    assert runs[-1]["finish_reason"] == "finished"


def assert_no_token_in(directory: Path) -> None:
    """Not in the journal, the JOBDIR queue, the store or the logs a kill left."""
    for path in directory.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def detail_calls_at_least(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda served: served["calls_by_endpoint"].get("detail", 0) >= count


def feed_calls_at_least(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda served: served["calls_by_endpoint"].get("feed", 0) >= count


def sigkill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)


@pytest.fixture
def slow_api(api: SandboxProcess) -> SandboxProcess:
    # Slow enough that a kill finds calls in flight, fast enough for a test.
    api.configure(latency=0.15)
    return api


KILL_POINTS = {
    "during feed pages": ({}, feed_calls_at_least(2)),
    "during details": ({}, detail_calls_at_least(15)),
    # Every item makes a batch: the kill lands on or next to a store write.
    "during a store flush": ({"XHS_STORE_BATCH_SIZE": "1"}, detail_calls_at_least(30)),
}


@pytest.mark.parametrize("jobdir", [False, True], ids=["no JOBDIR", "JOBDIR"])
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_crawl_run_again_pays_once_and_loses_nothing(
    slow_api: SandboxProcess, tmp_path: Path, point: str, jobdir: bool,
) -> None:
    extra, ready = KILL_POINTS[point]
    crawler = Crawler(slow_api, tmp_path, jobdir=jobdir, extra=extra)
    crawler.stop_when(crawler.start(), ready, sigkill)
    leftovers = list(tmp_path.glob("journal-*.jsonl"))
    assert_no_token_in(tmp_path)
    crawler.run_to_the_end()
    assert_every_note_stored_once(crawler, kills=1)
    if leftovers:
        assert "Replayed" in crawler.log(2)
    assert not list(tmp_path.glob("journal-*.jsonl"))
    assert not list(tmp_path.glob("spill-*.jsonl"))


def test_ctrl_c_twice_exits_non_zero_and_the_next_run_finishes_the_job(
    slow_api: SandboxProcess, tmp_path: Path,
) -> None:
    crawler = Crawler(slow_api, tmp_path, jobdir=True, extra={})

    def ctrl_c_twice(process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGINT)
        time.sleep(0.05)
        process.send_signal(signal.SIGINT)

    first = crawler.start()
    crawler.stop_when(first, detail_calls_at_least(10), ctrl_c_twice)
    assert first.returncode == 1
    assert "forcing unclean shutdown" in crawler.log(1)
    with open_store(crawler.store_uri) as store:
        forced = [run for run in store.find_runs() if run.get("finish_reason") == "xhs_forced_shutdown"]
    assert len(forced) == 1
    crawler.run_to_the_end()
    assert_every_note_stored_once(crawler, kills=1)


def test_ctrl_c_once_pauses_with_exit_1_and_the_same_command_finishes_the_job(
    slow_api: SandboxProcess, tmp_path: Path,
) -> None:
    crawler = Crawler(slow_api, tmp_path, jobdir=True, extra={})
    first = crawler.start()
    crawler.stop_when(first, detail_calls_at_least(10), lambda process: process.send_signal(signal.SIGINT))
    assert first.returncode == 1
    with open_store(crawler.store_uri) as store:
        assert [run["finish_reason"] for run in store.find_runs()] == ["shutdown"]
    crawler.run_to_the_end()
    assert_every_note_stored_once(crawler, kills=0)


def test_a_jobdir_resumed_against_another_base_url_sends_its_queue_there(
    crawl, api: SandboxProcess, tmp_path: Path,
) -> None:
    # prod-global until the quota stops the crawl, then prod-cn: two names of one sandbox here.
    jobdir = {"JOBDIR": str(tmp_path / "job")}
    api.configure(quota=12)
    first = crawl("feed", f"oid={CHANNELS[0]}", "pages=2",
                  settings={**jobdir, "JUSTONEAPI_BASE_URL": api.url.replace("127.0.0.1", "localhost")})
    assert first.finish_reason == "justoneapi_daily_quota_exceeded"
    api.configure(quota=None)
    second = crawl("feed", f"oid={CHANNELS[0]}", "pages=2", settings=jobdir)
    assert (second.finish_reason, second.returncode) == ("finished", 0)
    assert second.stats["justoneapi/requests_rebased"] >= 1
    billed = api.stats()["detail_billed_by_note"]
    assert set(billed.values()) == {1}
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        statuses = {note["status"] for note in store.iter_notes()}
    assert statuses <= {"ok", "unavailable"}
