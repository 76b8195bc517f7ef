"""Several workers share one crawl through a real redis-server (docs/distributed.md).

Workers are ``scrapy crawl`` subprocesses against the sandbox, sharing a
real MongoDB-protocol server (nx-27017) as their store and a real Redis on
loopback as their queue.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from scrapy import Request, Spider
from scrapy import signals as scrapy_signals
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.defer import deferred_f_from_coro_f, maybe_deferred_to_future
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from sandbox import SandboxProcess
from tests.conftest import (
    ADDON,
    FAST_SETTINGS,
    ROOT,
    TOKEN,
    requires_installed,
    run_scrapy,
    scrapy_command,
)
from tests.mongo_server import MongoServer
from tests.redis_server import RedisServer, redis_server_path
from xhs_spider.distributed import worker as worker_module
from xhs_spider.distributed.acks import InHandRelease
from xhs_spider.distributed.connection import REDIS_RETRIES, REDIS_TIMEOUT
from xhs_spider.distributed.keys import CrawlKeys
from xhs_spider.distributed.preflight import distributed_problem
from xhs_spider.distributed.setup import apply_distributed
from xhs_spider.distributed.worker import HEARTBEAT_TTL_MS, HELD_META, SharedCrawlWorker
from xhs_spider.outcome.reasons import REDIS_UNREACHABLE
from xhs_spider.store import open_store


@pytest.fixture(autouse=True)
def redis_installed() -> None:
    """CI installs redis-server: there a missing one fails the run, never skips it."""
    requires_installed(None if redis_server_path() else
                       "redis-server is not installed (apt-get install redis-server)")


CHANNELS = "homefeed_food_v3,homefeed_travel_v3,homefeed_fashion_v3,homefeed_cosmetics_v3"
PAGES = "3"
#: Per worker: with the sandbox's latency, a crawl long enough to kill a worker mid-way.
CONCURRENCY = 2
LATENCY = 0.3
#: Content of a note that does not depend on when it was fetched.
CONTENT = ("status", "channels", "url", "type", "title", "text", "hashtags", "author", "published_at")
#: With the shared pacer and budget (wt-pace): three workers together.
MAX_RPS = 8
BUDGET = 40


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    with MongoServer(tmp_path_factory.mktemp("distributed-mongo")) as server:
        yield server


@dataclass
class Worker:
    process: subprocess.Popen[str]
    log: Path
    stats_file: Path

    def wait(self, timeout: float = 90) -> int:
        self.process.communicate(timeout=timeout)
        return self.process.returncode

    @property
    def stats(self) -> dict[str, Any]:
        return json.loads(self.stats_file.read_text("utf-8")) if self.stats_file.exists() else {}

    def output(self) -> str:
        return self.log.read_text("utf-8")[-3000:] if self.log.exists() else ""


class Workers:
    """Starts the workers of shared crawls, all alike but for their log files."""

    def __init__(self, api: SandboxProcess, redis_url: str, store_uri: str | None, directory: Path,
                 cwd: Path = ROOT):
        """*store_uri* ``None``: the default store, relative to *cwd*."""
        self.api, self.redis_url, self.store_uri, self.directory = api, redis_url, store_uri, directory
        self.cwd = cwd
        self.started = 0

    def start(self, crawl_id: str, *, oid: str = CHANNELS, pages: str = PAGES,
              spider: str = "feed", arguments: dict[str, str] | None = None,
              **settings: object) -> Worker:
        """A worker of ``scrapy crawl feed`` over *oid*, or of *spider* with *arguments*."""
        self.started += 1
        log = self.directory / f"worker{self.started}.log"
        stats_file = self.directory / f"worker{self.started}.json"
        merged = {
            **FAST_SETTINGS, "LOG_LEVEL": "INFO", "JUSTONEAPI_BASE_URL": self.api.url,
            **({} if self.store_uri is None else {"XHS_STORE_URI": self.store_uri}),
            "XHS_SPILL_DIR": str(self.directory),
            "LOG_FILE": str(log), "XHS_STATS_FILE": str(stats_file), "XHS_IDLE_CLOSE": "1",
            "CONCURRENT_REQUESTS": str(CONCURRENCY), **settings,
        }
        args = ["crawl", spider]
        for argument, text in (arguments or {"oid": oid, "pages": pages}).items():
            args += ["-a", f"{argument}={text}"]
        for name, value in merged.items():
            args += ["-s", f"{name}={value}"]
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("JUSTONEAPI_", "XHS_"))}
        environment.update(JUSTONEAPI_TOKEN=TOKEN, PYTHONWARNINGS="error::DeprecationWarning",
                           REDIS_URL=self.redis_url, XHS_CRAWL_ID=crawl_id)
        if self.cwd != ROOT:
            environment.update(SCRAPY_SETTINGS_MODULE="xhs_spider.settings", PYTHONPATH=str(ROOT))
        process = subprocess.Popen(scrapy_command(*args), cwd=self.cwd, env=environment, text=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return Worker(process, log, stats_file)


def finish_all(workers: list[Worker]) -> None:
    for worker in workers:
        assert worker.wait() == 0, worker.output()
        assert worker.stats["finish_reason"] == "finished", worker.output()


def stored_content(store_uri: str) -> dict[str, dict[str, Any]]:
    with open_store(store_uri) as store:
        return {note["note_id"]: {name: note.get(name) for name in CONTENT}
                for note in store.iter_notes()}


def runs_of(store_uri: str) -> list[dict[str, Any]]:
    with open_store(store_uri) as store:
        return store.find_runs()


def assert_no_token_in_redis(redis_server: RedisServer) -> None:
    everything = repr(redis_server.all_keys_and_values()).encode()
    assert everything and TOKEN.encode() not in everything


@dataclass
class Uninterrupted:
    notes: dict[str, dict[str, Any]]
    billed: dict[str, int]


@pytest.fixture(scope="module")
def uninterrupted(sandbox: SandboxProcess, redis_server: RedisServer, mongo: MongoServer,
                  tmp_path_factory: pytest.TempPathFactory) -> Uninterrupted:
    """Three workers, started one after the other, crawl without a hitch."""
    sandbox.reset()
    sandbox.configure(
        faults={}, malformed_rate=0, truncated_rate=0, html_error_rate=0, redirect_rate=0,
        dataloss_rate=0, max_consecutive_faults=2, quota=None, rate_limit=None, latency=LATENCY,
        latency_jitter=0, unavailable_rate=0.03, odd_value_rate=0, retired_paths=[],
    )
    store_uri = mongo.uri("uninterrupted")
    workers = Workers(sandbox, redis_server.url, store_uri, tmp_path_factory.mktemp("whole"))
    started = []
    for _ in range(3):
        started.append(workers.start("whole"))
        time.sleep(0.5)
    finish_all(started)
    return Uninterrupted(stored_content(store_uri), sandbox.stats()["detail_billed_by_note"])


def test_three_workers_share_one_crawl(
    uninterrupted: Uninterrupted, redis_server: RedisServer, mongo: MongoServer,
) -> None:
    notes, billed = uninterrupted.notes, uninterrupted.billed
    assert len(notes) > 100
    # Each note paid for once across the workers, and stored once.
    assert {note_id: times for note_id, times in billed.items() if times > 1} == {}
    assert set(notes) == set(billed)
    assert {note["status"] for note in notes.values()} <= {"ok", "unavailable"}
    runs = runs_of(mongo.uri("uninterrupted"))
    assert [run["crawl_id"] for run in runs] == ["whole"] * 3
    # The work was shared: more than one worker paid for details.
    assert sum(1 for run in runs if run["summary"]["api"]["requests"]) >= 2
    assert_no_token_in_redis(redis_server)
    keys = redis_server.all_keys_and_values()
    # Every key of the crawl in its namespace (the rate cap's is per token, not per crawl).
    assert [key for key in keys if not key.startswith((b"xhs:whole:", b"xhs:pace:"))] == []
    # Every request a worker took was reported done: nothing left in hand.
    assert [key for key in keys if key.startswith(b"xhs:whole:in-hand:")] == []


def test_crawl_summary_adds_up_the_workers(uninterrupted: Uninterrupted, mongo: MongoServer) -> None:
    done = run_scrapy(["crawl-summary", "whole", "--json",
                       "-s", f"XHS_STORE_URI={mongo.uri('uninterrupted')}"])
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["outcome"] == "finished" and len(summary["runs"]) == 3
    assert summary["api"]["requests"] == sum(uninterrupted.billed.values()) + summary["feed_pages"]
    missing = run_scrapy(["crawl-summary", "nosuchcrawl", "-s",
                          f"XHS_STORE_URI={mongo.uri('uninterrupted')}"])
    assert missing.returncode == 1 and "no run of crawl 'nosuchcrawl'" in missing.stderr


def wait_until_mid_crawl(api: SandboxProcess, expected_calls: int, redis_server: RedisServer,
                         worker: Worker) -> None:
    """Until a third of the calls are made and *worker* has requests in hand."""
    client = redis_server.client()
    pattern = CrawlKeys("killed").in_hand(f"*-{worker.process.pid}-*")
    deadline = time.monotonic() + 60
    while api.stats()["calls"] < expected_calls // 3 or not any(
        client.hlen(key) for key in client.scan_iter(match=pattern)
    ):
        assert worker.process.poll() is None, worker.output()
        assert time.monotonic() < deadline, "the crawl did not get going"
        time.sleep(0.05)
    client.close()


def test_a_killed_worker_restarted_leaves_the_store_of_an_uninterrupted_crawl(
    api: SandboxProcess, uninterrupted: Uninterrupted, redis_server: RedisServer,
    mongo: MongoServer, tmp_path: Path,
) -> None:
    # Code 500 is retried: retries go back through the shared queue.
    api.configure(latency=LATENCY, faults={"500": 0.3})
    store_uri = mongo.uri("killed")
    workers = Workers(api, redis_server.url, store_uri, tmp_path)
    started = [workers.start("killed") for _ in range(3)]
    expected_calls = len(uninterrupted.billed)
    wait_until_mid_crawl(api, expected_calls, redis_server, started[1])
    started[1].process.send_signal(signal.SIGKILL)
    started[1].process.communicate()
    # What the killed worker had in hand is in Redis now, without the token.
    assert any(b":in-hand:" in key for key in redis_server.all_keys_and_values())
    assert_no_token_in_redis(redis_server)
    restarted = workers.start("killed")
    finish_all([started[0], started[2], restarted])

    billed = api.stats()["detail_billed_by_note"]
    content = stored_content(store_uri)
    # Any note unlike the uninterrupted crawl's, with its status and times billed.
    unlike = {note_id: (note["status"], billed.get(note_id)) for note_id, note in content.items()
              if note != uninterrupted.notes.get(note_id)}
    assert unlike == {}
    assert content == uninterrupted.notes
    assert set(billed) == set(uninterrupted.billed)
    # Only what the killed worker had in flight may have been paid twice.
    twice = {note_id: times for note_id, times in billed.items() if times > 1}
    assert sum(times - 1 for times in twice.values()) <= CONCURRENCY, twice
    survivors = (started[0], started[2], restarted)
    returned = sum(w.stats.get("xhs/distributed/returned_to_queue", 0) for w in survivors)
    assert sum(w.stats.get("justoneapi/retry/count", 0) for w in survivors) > 0
    assert returned >= 1, "the killed worker's requests in hand were not put back"
    summary = run_scrapy(["crawl-summary", "killed", "--json", "-s", f"XHS_STORE_URI={store_uri}"])
    assert json.loads(summary.stdout)["outcome"] == "finished"
    assert_no_token_in_redis(redis_server)


def test_a_crawl_stopped_by_its_budget_resumes_from_the_queue(
    uninterrupted: Uninterrupted, api: SandboxProcess, redis_server: RedisServer,
    mongo: MongoServer, tmp_path: Path,
) -> None:
    api.configure(latency=LATENCY)
    store_uri = mongo.uri("budget")
    workers = Workers(api, redis_server.url, store_uri, tmp_path)
    stopped = workers.start("budget", JUSTONEAPI_MAX_BILLED_CALLS=20)
    assert stopped.wait() == 1, stopped.output()
    assert stopped.stats["finish_reason"] == "justoneapi_budget_exhausted"
    assert api.stats()["billed"] <= 20
    client = redis_server.client()
    assert client.zcard(CrawlKeys("budget").requests) > 0, "nothing left in the queue to resume"
    client.close()
    # The same command with the same id, by two workers this time: they go on.
    finish_all([workers.start("budget") for _ in range(2)])
    assert stored_content(store_uri) == uninterrupted.notes
    twice = {n: times for n, times in api.stats()["detail_billed_by_note"].items() if times > 1}
    assert sum(times - 1 for times in twice.values()) <= CONCURRENCY, twice


def test_three_workers_keep_one_rate_and_one_budget(
    api: SandboxProcess, redis_server: RedisServer, mongo: MongoServer, tmp_path: Path,
) -> None:
    """Needs the shared pacer and budget (JUSTONEAPI_MAX_RPS and
    JUSTONEAPI_MAX_BILLED_CALLS through Redis)."""
    api.configure(latency=0.05)
    workers = Workers(api, redis_server.url, mongo.uri("paced"), tmp_path)
    started = [workers.start("paced", JUSTONEAPI_MAX_RPS=MAX_RPS, JUSTONEAPI_MAX_BILLED_CALLS=BUDGET)
               for _ in range(3)]
    for worker in started:
        assert worker.wait() in (0, 1), worker.output()
        assert worker.stats["finish_reason"] in ("finished", "justoneapi_budget_exhausted")
    stats = api.stats()
    assert 0 < stats["billed"] <= BUDGET
    calls = {int(second): counts.get("calls", 0) for second, counts in stats["by_second"].items()}
    per_second = [count for second, count in calls.items() if min(calls) < second < max(calls)]
    # The sandbox counts arrivals by calendar second: a call the reactor sent
    # a few ms late can land in the same second as the call one place later.
    assert max(per_second) <= MAX_RPS + 1, per_second
    # Over the whole seconds the workers ran together (the partial first and
    # last aside), the cap: evenly spaced calls at MAX_RPS fit MAX_RPS * n + 1
    # into n whole seconds, the +1 when one lands on each edge of the window.
    assert per_second and sum(per_second) <= MAX_RPS * len(per_second) + 1, per_second
    assert_no_token_in_redis(redis_server)


def test_two_crawls_never_mix(
    api: SandboxProcess, redis_server: RedisServer, mongo: MongoServer, tmp_path: Path,
) -> None:
    workers = Workers(api, redis_server.url, mongo.uri("two-crawls"), tmp_path)
    food = workers.start("food", oid="homefeed_food_v3", pages="1")
    travel = workers.start("travel", oid="homefeed_travel_v3", pages="1")
    finish_all([food, travel])
    # Each seeded its own crawl: neither joined the other's.
    assert food.stats["xhs/distributed/seeded"] == travel.stats["xhs/distributed/seeded"] == 1
    assert set(food.stats) >= {"justoneapi/feed/pages_by_channel/homefeed_food_v3"}
    assert not any("travel" in key for key in food.stats)
    assert not any("food" in key for key in travel.stats)
    keys = redis_server.all_keys_and_values()
    assert CrawlKeys("food").seeded.encode() in keys and CrawlKeys("travel").seeded.encode() in keys


def test_a_worker_of_a_done_crawl_closes_on_its_own(
    uninterrupted: Uninterrupted, api: SandboxProcess, redis_server: RedisServer,
    mongo: MongoServer, tmp_path: Path,
) -> None:
    # Its workers marked the crawl finished: the id is refused (test_distributed_safety.py).
    client = redis_server.client()
    assert client.exists(CrawlKeys("whole").finished)
    assert "crawl whole finished at" in refused(
        api, f"XHS_STORE_URI={mongo.uri('uninterrupted')}",
        env={"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "whole"})
    # Drained but never marked (its last worker killed, a crawl of an older
    # version): a worker joins, finds nothing queued and closes on its own.
    client.delete(CrawlKeys("whole").finished)
    client.close()
    workers = Workers(api, redis_server.url, mongo.uri("uninterrupted"), tmp_path)
    began = time.monotonic()
    again = workers.start("whole", XHS_IDLE_CLOSE="2")
    finish_all([again])
    # Joined (the crawl is seeded), found nothing queued, waited, closed.
    assert again.stats["xhs/distributed/seeded"] == 0
    assert api.stats()["calls"] == 0
    assert 2 <= time.monotonic() - began < 20


def test_a_crawl_never_seeded_to_the_end_does_not_finish(
    api: SandboxProcess, redis_server: RedisServer, mongo: MongoServer, tmp_path: Path,
) -> None:
    client = redis_server.client()
    # A seeder that died seeding: its heartbeat is gone, the next worker seeds.
    client.set(CrawlKeys("orphan").seeded, "seeding:ghost")
    # A seeder alive but idle that never finished: the crawl drains unseeded.
    stuck = CrawlKeys("stuck")
    client.set(stuck.seeded, "seeding:frozen")
    client.set(stuck.worker("frozen"), "idle", px=60_000)
    workers = Workers(api, redis_server.url, mongo.uri("seeding"), tmp_path)
    orphan = workers.start("orphan", oid="homefeed_food_v3", pages="1")
    drained = workers.start("stuck", oid="homefeed_food_v3", pages="1")
    finish_all([orphan])
    assert orphan.stats["xhs/distributed/seeded"] == 1
    assert drained.wait() == 1, drained.output()
    assert drained.stats["finish_reason"] == "xhs_crawl_not_seeded"
    assert drained.stats["xhs/distributed/seeded"] == 0
    client.delete(stuck.worker("frozen"))
    client.close()


def refused(api: SandboxProcess, *settings: str, env: dict[str, str], cwd: Path = ROOT) -> str:
    args = ["crawl", "feed", "-a", "oid=homefeed_food_v3", "-s", f"JUSTONEAPI_BASE_URL={api.url}"]
    for setting in settings:
        args += ["-s", setting]
    done = run_scrapy(args, cwd=cwd, env={"JUSTONEAPI_TOKEN": TOKEN, **env})
    assert done.returncode == 2, done.stderr[-2000:]
    assert api.stats()["calls"] == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr[-2000:]
    return lines[0]


def test_refused_without_a_crawl_id_or_with_a_bad_one(
    api: SandboxProcess, redis_server: RedisServer, tmp_path: Path,
) -> None:
    store = f"XHS_STORE_URI=sqlite:///{tmp_path / 'x.sqlite3'}"
    assert "set XHS_CRAWL_ID" in refused(api, store, env={"REDIS_URL": redis_server.url})
    assert "XHS_CRAWL_ID='a b'" in refused(
        api, store, env={"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "a b"})
    assert "drop -s JOBDIR" in refused(
        api, store, f"JOBDIR={tmp_path / 'job'}",
        env={"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "jobdir"})
    assert "does not answer" in refused(
        api, store, "REDIS_URL=redis://127.0.0.1:1/0", env={"XHS_CRAWL_ID": "nowhere"})


def test_sqlite_refused_once_another_machine_joined(
    api: SandboxProcess, redis_server: RedisServer, mongo: MongoServer, tmp_path: Path,
) -> None:
    client = redis_server.client()
    client.hset(CrawlKeys("hosts").hosts, "another-machine", "shared")
    client.hset(CrawlKeys("sqlite-first").hosts, "another-machine", "sqlite")
    client.close()
    env = {"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "hosts"}
    line = refused(api, f"XHS_STORE_URI=sqlite:///{tmp_path / 'x.sqlite3'}", env=env)
    assert "another-machine" in line and "XHS_STORE_URI=mongodb://" in line
    env["XHS_CRAWL_ID"] = "sqlite-first"
    assert "SQLite store" in refused(api, f"XHS_STORE_URI={mongo.uri('hosts')}", env=env)


def test_scrapy_redis_warnings_are_kept_out_but_ours_are_not() -> None:
    settings = Settings({"REDIS_URL": "redis://127.0.0.1:1/0", "XHS_CRAWL_ID": "warnings"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apply_distributed(settings)
        warnings.warn_explicit("old API", DeprecationWarning, "scheduler.py", 1,
                               module="scrapy_redis.scheduler")
        with pytest.raises(DeprecationWarning):
            warnings.warn_explicit("old API", DeprecationWarning, "feed.py", 1,
                                   module="xhs_spider.spiders.feed")
    assert settings["SCHEDULER"] == "xhs_spider.distributed.scheduler.SharedScheduler"
    assert settings["SCHEDULER_QUEUE_KEY"] == "xhs:warnings:requests"


@deferred_f_from_coro_f
async def test_a_worker_takes_done_requests_out_of_its_hand_off_the_reactor_thread(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    crawler = get_crawler(Spider, {**ADDON, "REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "release"})
    worker = SharedCrawlWorker.from_crawler(crawler)
    calls: list[tuple[str, int]] = []
    execute = worker.server.execute_command

    def recorded(*args: Any, **options: Any) -> Any:
        calls.append((str(args[0]), threading.get_ident()))
        return execute(*args, **options)

    monkeypatch.setattr(worker.server, "execute_command", recorded)
    client = redis_server.client()
    in_hand, heartbeat = worker.keys.in_hand(worker.worker_id), worker.keys.worker(worker.worker_id)
    client.hset(in_hand, mapping={f"-1:{n}": "request" for n in range(6)})
    await crawler.signals.send_catch_log_async(scrapy_signals.spider_opened, spider=None)
    assert client.get(heartbeat) == b"busy"
    for n in range(5):
        worker.release(Request("https://example.com", meta={HELD_META: f"-1:{n}"}))
    # Closing at once: the removal under way ends, then the rest goes before the heartbeat.
    await crawler.signals.send_catch_log_async(scrapy_signals.spider_closed, spider=None,
                                               reason="finished")
    # The first went alone, the four done while it was under way in one HDEL.
    assert [name for name, _ in calls if name != "SET"] == ["HDEL", "HDEL", "DEL"]
    assert client.hkeys(in_hand) == [b"-1:5"]  # not done: another worker puts it back
    assert client.exists(heartbeat) == 0
    reactor_thread = threading.get_ident()
    assert calls and all(thread != reactor_thread for _, thread in calls)
    client.delete(in_hand)
    client.close()


def test_a_worker_without_shared_limits_ends_loudly_when_redis_goes(
    api: SandboxProcess, mongo: MongoServer, tmp_path: Path,
) -> None:
    """No JUSTONEAPI_MAX_RPS nor budget: only the queue and the heartbeat need Redis."""
    api.configure(latency=LATENCY)
    with RedisServer(tmp_path / "redis") as server:
        worker = Workers(api, server.url, mongo.uri("redis-gone"), tmp_path).start("redis-gone")
        deadline = time.monotonic() + 60
        while api.stats()["calls"] < 4:
            assert worker.process.poll() is None and time.monotonic() < deadline, worker.output()
            time.sleep(0.05)
        server.stop()
        stopped = time.monotonic()
        assert worker.wait(timeout=30) == 1, worker.output()
    assert time.monotonic() - stopped < 30
    assert worker.stats["finish_reason"] == REDIS_UNREACHABLE
    log = worker.log.read_text("utf-8")
    assert log.count("Redis (REDIS_URL) did not answer") == 1, worker.output()
    assert "Traceback" not in log and log.count(" ERROR: ") == 1, worker.output()


def test_a_worker_of_another_command_is_refused(
    api: SandboxProcess, redis_server: RedisServer, mongo: MongoServer, tmp_path: Path,
) -> None:
    store_uri = mongo.uri("mixed")
    finish_all([Workers(api, redis_server.url, store_uri, tmp_path).start(
        "mixed", oid="homefeed_travel_v3", pages="1")])
    client = redis_server.client()
    client.delete(CrawlKeys("mixed").finished)  # as if under way: the command is what is checked
    client.close()
    calls = api.stats()["calls"]
    env = {"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "mixed", "JUSTONEAPI_TOKEN": TOKEN}

    def join(*arguments: str) -> subprocess.CompletedProcess[str]:
        return run_scrapy(["crawl", *arguments, "-s", f"JUSTONEAPI_BASE_URL={api.url}",
                           "-s", f"XHS_STORE_URI={store_uri}", "-s", "XHS_IDLE_CLOSE=1",
                           "-s", f"XHS_SPILL_DIR={tmp_path}"], env=env)

    note = join("note", "-a", "ids=5f0000000000000000000001")
    pages = join("feed", "-a", "oid=homefeed_travel_v3", "-a", "pages=2")
    for done in (note, pages):
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr[-2000:]
    assert "scrapy crawl feed (-a oid, -a pages), this worker scrapy crawl note (-a ids)" in note.stderr
    assert "differing arguments: ids, oid, pages." in note.stderr
    assert "differing arguments: pages." in pages.stderr and "travel" not in pages.stderr
    assert api.stats()["calls"] == calls
    # Scrapyd's _job differs for every job: not part of the command.
    same = join("feed", "-a", "pages=1", "-a", "oid=homefeed_travel_v3", "-a", "_job=0a1b2c")
    assert same.returncode == 0, same.stderr[-2000:]


def test_scrapy_redis_gets_short_timeouts_and_the_heartbeat_outlasts_them() -> None:
    settings = Settings({"REDIS_URL": "redis://127.0.0.1:1/0", "XHS_CRAWL_ID": "timeouts"})
    apply_distributed(settings)
    params = settings.getdict("REDIS_PARAMS")
    assert params["socket_timeout"] == params["socket_connect_timeout"] == REDIS_TIMEOUT
    assert params["retry_on_timeout"] is False
    # One call's worst stall: each try a connect and an answer timing out, plus back-offs.
    worst_stall = (REDIS_RETRIES + 1) * 2 * REDIS_TIMEOUT + REDIS_RETRIES * 0.5
    assert 2 * worst_stall <= HEARTBEAT_TTL_MS / 1000


def test_in_hand_release_sees_the_callbacks_final_output() -> None:
    """Scrapy chains process_spider_output from the highest order to the
    lowest: the release must come last, after any middleware that drops items."""
    settings = Settings({"REDIS_URL": "redis://127.0.0.1:1/0", "XHS_CRAWL_ID": "order"})
    apply_distributed(settings)
    # From the lowest order (nearest the engine) to the highest.
    assert build_component_list(settings.getwithbase("SPIDER_MIDDLEWARES"))[0] is InHandRelease


def join_at_once(settings: Settings, machines: tuple[str, ...]) -> dict[str, str | None]:
    """The preflight of one worker on each of *machines*, all at the same moment."""
    start = threading.Barrier(len(machines))
    problems: dict[str, str | None] = {}

    def join(machine: str) -> None:
        start.wait()
        problems[machine] = distributed_problem(settings, "feed", {})

    threads = [threading.Thread(target=join, args=(name,), name=name) for name in machines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


def test_two_machines_starting_with_sqlite_at_once_cannot_both_join(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each thread is a machine of its own.
    monkeypatch.setattr(socket, "gethostname", lambda: threading.current_thread().name)
    for attempt in range(20):
        settings = Settings({"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": f"race{attempt}",
                             "XHS_STORE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
        problems = join_at_once(settings, ("a", "b"))
        assert sorted(problem is None for problem in problems.values()) == [False, True], problems


@deferred_f_from_coro_f
async def test_an_outage_warns_once_about_done_requests_left_in_hand(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = get_crawler(Spider, {**ADDON, "REDIS_URL": "redis://127.0.0.1:1/0",
                                   "XHS_CRAWL_ID": "outage"})
    worker = SharedCrawlWorker.from_crawler(crawler)
    for n in range(4):  # a release, then the heartbeats that try again
        worker.release(Request("https://example.com", meta={HELD_META: f"-1:{n}"}))
        worker._remove_done_soon(retrying=True)  # what each heartbeat does
        await maybe_deferred_to_future(worker._removing.run(lambda: None))
    warnings = [r.getMessage() for r in caplog.records if "did not take" in r.getMessage()]
    assert len(warnings) == 1, warnings


def test_a_heartbeat_failing_past_its_grace_ends_the_crawl(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = get_crawler(Spider, {**ADDON, "REDIS_URL": "redis://127.0.0.1:1/0",
                                   "XHS_CRAWL_ID": "grace"})
    worker = SharedCrawlWorker.from_crawler(crawler)
    now = [0.0]
    monkeypatch.setattr(worker_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    outage = Failure(redis.ConnectionError("Connection refused."))

    def heartbeats_fail_at(*seconds: float) -> None:
        for second in seconds:
            now[0] = second
            worker._heartbeat_failed(outage)

    heartbeats_fail_at(100.0, 101.0, 102.0)
    assert not worker.redis_gone
    with pytest.raises(DontCloseSpider):
        worker._idle()
    heartbeats_fail_at(103.0, 104.0)
    assert worker.redis_gone
    worker._idle()  # the spider may close now
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and "keeping this worker's heartbeat" in errors[0], errors
