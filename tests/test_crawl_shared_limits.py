"""Worker processes sharing one Redis keep one rate cap and one budget.

Each worker is a ``scrapy crawl feed`` subprocess against the sandbox, all
running the same command (one channel) with the same ``REDIS_URL`` and
``XHS_CRAWL_ID``: workers of one shared crawl share its scheduler, and a
joiner's differing arguments would be ignored (and are to be refused). The
sandbox counts, per calendar second, what all of them sent.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.data import CHANNELS
from sandbox.process import SandboxProcess
from tests.conftest import FAST_SETTINGS, TOKEN, scrapy_command
from tests.redis_server import RedisServer, live_workers
from xhs_spider.outcome.reasons import BUDGET_EXHAUSTED, REDIS_UNREACHABLE

ROOT = Path(__file__).resolve().parent.parent
CAP = 10
#: The one channel every worker's command names.
CHANNEL = CHANNELS[3]
CONCURRENT_REQUESTS = 8  # the project's default
WORKER_TIMEOUT = 60


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path
    stats_path: Path

    def wait(self) -> int:
        return self.process.wait(timeout=WORKER_TIMEOUT)

    def output(self) -> str:
        """The end of its log, or what it said before its log opened."""
        written = self.log if self.log.exists() else self.log.with_name("stderr.txt")
        return written.read_text("utf-8")[-2000:]

    @property
    def stats(self) -> dict:
        return json.loads(self.stats_path.read_text("utf-8")) if self.stats_path.exists() else {}


def start_worker(tmp_path: Path, api: SandboxProcess, run_name: str, settings: dict[str, str]) -> Worker:
    run_dir = tmp_path / run_name
    run_dir.mkdir()
    log, stats = run_dir / "crawl.log", run_dir / "stats.json"
    merged = {**FAST_SETTINGS, "LOG_LEVEL": "INFO", "JUSTONEAPI_BASE_URL": api.url,
              "XHS_STATS_FILE": str(stats), "XHS_STORE_URI": f"sqlite:///{tmp_path / 'xhs.sqlite3'}",
              **settings}
    args = ["crawl", "feed", "-a", f"oid={CHANNEL}", "-a", "pages=8", "--logfile", str(log)]
    for name, value in merged.items():
        args += ["-s", f"{name}={value}"]
    environment = {"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "error::DeprecationWarning",
                   "JUSTONEAPI_TOKEN": TOKEN}
    # A worker refused before its log opens says why on stderr.
    with (run_dir / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(scrapy_command(*args), cwd=ROOT, env=environment,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    return Worker(process, log, stats)


def calls_per_second(by_second: dict[str, dict[str, int]]) -> dict[int, int]:
    """Calls per calendar second, every second the sandbox saw."""
    return {int(second): counts.get("calls", 0) for second, counts in by_second.items()}


def whole_seconds(calls: dict[int, int]) -> dict[int, int]:
    """*calls* without the first and last seconds, which the crawl filled only in part."""
    return {second: count for second, count in calls.items() if min(calls) < second < max(calls)}


def wait_for_workers(redis_server: RedisServer, crawl_id: str, count: int) -> None:
    """Until *count* workers of the crawl are alive (their heartbeats), all past their checks."""
    client = redis_server.client()
    deadline = time.monotonic() + 60
    try:
        while len(live_workers(client, crawl_id)) < count:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.05)
    finally:
        client.close()


def wait_for_calls(api: SandboxProcess, calls: int) -> None:
    deadline = time.monotonic() + WORKER_TIMEOUT
    while api.stats()["calls"] < calls and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def redis_server(tmp_path: Path):
    with RedisServer(tmp_path / "redis") as server:
        yield server


def test_three_workers_hold_one_cap_and_one_budget(tmp_path: Path, api: SandboxProcess,
                                                  redis_server: RedisServer) -> None:
    budget = 60
    # Answers that take time, and AutoThrottle's start delay of the project's
    # defaults: calls that passed their place must not pile up behind it and
    # leave in a burst when the delay shrinks.
    api.configure(latency=0.3)
    shared = {"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "shared-limits", "AUTOTHROTTLE_START_DELAY": "0.5",
              "JUSTONEAPI_MAX_RPS": str(CAP), "JUSTONEAPI_MAX_BILLED_CALLS": str(budget)}
    workers = [start_worker(tmp_path, api, f"worker-{index}", shared) for index in range(3)]
    wait_for_calls(api, budget // 2)
    stored = repr(redis_server.all_keys_and_values())  # while the grid's key lives
    codes = [worker.wait() for worker in workers]

    assert codes == [1, 1, 1], [worker.log.read_text("utf-8")[-2000:] for worker in workers]
    assert [worker.stats.get("finish_reason") for worker in workers] == [BUDGET_EXHAUSTED] * 3
    seen = api.stats()
    assert budget - 3 <= seen["billed"] <= budget  # never over, across the three
    assert set(seen["detail_billed_by_note"].values()) == {1}
    every_second = calls_per_second(seen["by_second"])
    per_second = whole_seconds(every_second)
    assert len(per_second) >= 3
    # Three workers, each allowed CAP alone: together, one grid of 1/CAP s.
    # The sandbox counts arrivals by calendar second: a call sent a few ms
    # after its place on the grid can land in the same second as the call one
    # grid second later, hence CAP + 1 in one second, never more.
    assert max(every_second.values()) <= CAP + 1, every_second
    # Over the measured seconds that late call is one in all (it left the
    # second before): the mean is CAP at most, to within that one call.
    calls, seconds = sum(per_second.values()), len(per_second)
    assert calls - 1 <= CAP * seconds, per_second
    assert calls / seconds >= 0.8 * CAP, per_second
    stored += repr(redis_server.all_keys_and_values())
    assert TOKEN not in stored and "xhs:pace:" in stored and "budget:billed" in stored


def test_redis_gone_mid_crawl_ends_every_worker_loudly(tmp_path: Path, api: SandboxProcess,
                                                      redis_server: RedisServer) -> None:
    shared = {"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "redis-gone",
              "JUSTONEAPI_MAX_RPS": str(CAP), "JUSTONEAPI_MAX_BILLED_CALLS": "1000"}
    workers = [start_worker(tmp_path, api, f"worker-{index}", shared) for index in range(2)]
    # Redis stops under running workers, not under one still starting (its
    # check before the crawl would refuse it: exit 2, another test's matter).
    wait_for_workers(redis_server, "redis-gone", 2)
    wait_for_calls(api, 2 * CAP)
    redis_server.stop()
    sent_before = api.stats()["calls"]
    codes = [worker.wait() for worker in workers]

    assert codes == [1, 1]
    assert [worker.stats.get("finish_reason") for worker in workers] == [REDIS_UNREACHABLE] * 2
    # Only calls that had their place on the grid before Redis went (at most
    # CONCURRENT_REQUESTS a worker wait or fly at once), still at their pace.
    assert api.stats()["calls"] - sent_before <= 2 * CONCURRENT_REQUESTS
    for worker in workers:
        assert "Redis (REDIS_URL) did not answer" in worker.log.read_text("utf-8")
    per_second = Counter({int(s): c.get("calls", 0) for s, c in api.stats()["by_second"].items()})
    assert max(per_second.values()) <= CAP + 1
