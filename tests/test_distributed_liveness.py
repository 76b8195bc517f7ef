"""Issue 17: the shared budget holds across kills, and liveness costs O(1).

Workers are ``scrapy crawl feed`` subprocesses against the sandbox, sharing a
real redis-server on loopback (see test_crawl_shared_limits.py for the
workers): a worker SIGKILLed while its calls were billed and not yet counted
leaves the API billing at most the budget; and a crawl in a Redis holding
2,000,000 unrelated keys keeps its heartbeats and closes on time, as in an
empty one.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from sandbox.process import SandboxProcess
from tests.conftest import requires_installed
from tests.redis_server import RedisServer, live_workers, redis_server_path, text
from tests.test_crawl_shared_limits import Worker, start_worker
from xhs_spider.distributed import scripts
from xhs_spider.distributed.keys import CrawlKeys
from xhs_spider.distributed.ledger import ALIVE_TTL, budget_prefix
from xhs_spider.distributed.worker import look_around
from xhs_spider.outcome.reasons import BUDGET_EXHAUSTED

BUDGET = 24
#: Long answers: a worker stopped holds calls the API bills while it cannot count them.
KILL_LATENCY = 2.0
KILLS = 3
UNRELATED_KEYS = 2_000_000
IDLE_CLOSE = 5
#: Seconds between two samples of the heartbeats.
SAMPLE_EVERY = 0.5


@pytest.fixture(autouse=True)
def redis_installed() -> None:
    requires_installed(None if redis_server_path() else
                       "redis-server is not installed (apt-get install redis-server)")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


def test_a_gone_workers_hand_goes_back_by_name_and_a_live_ones_stays(redis_server: RedisServer) -> None:
    client = redis_server.client()
    crawl = CrawlKeys("by-name")
    for worker_id in ("gone", "alive", "me"):
        client.sadd(crawl.workers, worker_id)
        client.hset(crawl.in_hand(worker_id), f"-5:{worker_id}", f"request of {worker_id}")
    client.set(crawl.worker("alive"), "busy", px=30_000)
    look = look_around(client, crawl, "me", client.register_script(scripts.RETURN_TO_QUEUE), "idle")
    assert look.returned == 1 and not look.quiet and look.waiting  # "alive" is busy
    assert client.zrange(crawl.requests, 0, -1) == [b"request of gone"]
    assert client.smembers(crawl.workers) == {b"alive", b"me"}
    assert client.exists(crawl.in_hand("gone")) == 0 and client.hlen(crawl.in_hand("alive")) == 1
    client.close()


def held_by(client: redis.Redis, crawl_id: str, worker: Worker) -> int:
    """The calls *worker* holds of the shared budget (its entry is named after its pid)."""
    held = client.hgetall(f"{budget_prefix(crawl_id)}:held")
    return sum(int(count) for name, count in held.items() if f"-{worker.process.pid}-" in text(name))


def billed_in_redis(client: redis.Redis, crawl_id: str) -> int:
    return int(client.get(f"{budget_prefix(crawl_id)}:billed") or 0)


def kill_holding_billed_calls(client: redis.Redis, crawl_id: str, api: SandboxProcess,
                              victim: Worker) -> int:
    """SIGKILL *victim* once its calls were billed by the API and not counted
    by it: stopped (SIGSTOP) while holding reservations, it cannot read the
    answers the sandbox bills meanwhile. How many calls the API billed that
    Redis had not counted at the kill."""
    deadline = time.monotonic() + 60
    while held_by(client, crawl_id, victim) < 2:
        assert victim.process.poll() is None and time.monotonic() < deadline, victim.output()
        time.sleep(0.02)
    os.kill(victim.process.pid, signal.SIGSTOP)
    time.sleep(KILL_LATENCY + 1.0)  # its calls in flight are answered: billed
    uncounted = api.stats()["billed"] - billed_in_redis(client, crawl_id)
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    return uncounted


@pytest.mark.slow
def test_workers_killed_holding_billed_calls_never_make_the_api_bill_past_the_budget(
    tmp_path: Path, api: SandboxProcess, redis_server: RedisServer,
) -> None:
    api.configure(latency=KILL_LATENCY)
    crawl_id = "killed-budget"
    shared = {"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": crawl_id,
              "JUSTONEAPI_MAX_BILLED_CALLS": str(BUDGET)}
    # One slow survivor; the workers killed and restarted beside it hold more calls.
    survivor = start_worker(tmp_path, api, "survivor", {**shared, "CONCURRENT_REQUESTS": "1"})
    client = redis_server.client()
    uncounted = []
    for kill in range(KILLS + 1):
        victim = start_worker(tmp_path, api, f"victim-{kill}", {**shared, "CONCURRENT_REQUESTS": "3"})
        if kill < KILLS:
            uncounted.append(kill_holding_billed_calls(client, crawl_id, api, victim))
    began_waiting = time.monotonic()
    codes = [survivor.wait(), victim.wait()]

    # Each kill left calls the API billed and the killed worker never counted:
    # counted as billed once it was found gone, never spent again.
    assert min(uncounted) >= 1, uncounted
    assert api.stats()["billed"] <= BUDGET, (uncounted, api.stats()["billed"])
    assert billed_in_redis(client, crawl_id) >= api.stats()["billed"]
    assert codes == [1, 1], [survivor.output(), victim.output()]
    assert [survivor.stats.get("finish_reason"), victim.stats.get("finish_reason")] == [BUDGET_EXHAUSTED] * 2
    # The last killed worker's calls were settled once its sign of life expired.
    assert time.monotonic() - began_waiting < ALIVE_TTL + 20
    client.close()


def heartbeat_lapses(samples: list[int | None]) -> list[int]:
    """Where a worker's heartbeat was missing, then there again: taken for gone while alive.

    Only the samples since its first heartbeat count, and a missing run at
    the end is the worker closing (it deletes its key as it leaves).
    """
    seen = [index for index, ttl in enumerate(samples) if ttl is not None]
    if not seen:
        return []
    return [index for index in range(seen[0], seen[-1]) if samples[index] is None]


@pytest.mark.slow
def test_a_crawl_among_two_million_unrelated_keys_behaves_as_in_an_empty_redis(
    tmp_path: Path, api: SandboxProcess, redis_server: RedisServer,
) -> None:
    client = redis.Redis.from_url(redis_server.url, socket_timeout=120)  # populating takes seconds
    client.execute_command("DEBUG", "POPULATE", UNRELATED_KEYS, "unrelated")
    assert client.dbsize() == UNRELATED_KEYS
    client.config_resetstat()
    api.configure(latency=0.05)
    crawl_id = "among-millions"
    shared = {"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": crawl_id, "XHS_IDLE_CLOSE": str(IDLE_CLOSE),
              # A crawl of about 2 minutes (as in the 2 minutes), paced through the same Redis.
              "JUSTONEAPI_MAX_RPS": "0.8", "CONCURRENT_REQUESTS": "2"}
    workers = [start_worker(tmp_path, api, f"worker-{index}", shared) for index in range(2)]
    samples: dict[int, list[int | None]] = {worker.process.pid: [] for worker in workers}
    exited: dict[int, float] = {}
    began = time.monotonic()
    while len(exited) < len(workers):
        assert time.monotonic() - began < 170, "the workers did not close"
        live = live_workers(client, crawl_id)
        for worker in workers:
            pid = worker.process.pid
            if worker.process.poll() is not None:
                exited.setdefault(pid, time.time())
                continue
            found = [ttl for name, ttl in live.items() if f"-{pid}-" in name]
            samples[pid].append(found[0] if found else None)
        time.sleep(SAMPLE_EVERY)

    logs = [worker.output() for worker in workers]
    assert [worker.wait() for worker in workers] == [0, 0], logs
    assert [worker.stats.get("finish_reason") for worker in workers] == ["finished"] * 2, logs
    assert time.monotonic() - began > 100  # long enough to matter
    for pid, ttls in samples.items():
        assert heartbeat_lapses(ttls) == [], (pid, ttls)
        renewed = [ttl for ttl in ttls if ttl is not None]
        # Sampled over the whole crawl, never near expiry (30 s, renewed every second).
        assert len(renewed) > 120 and min(renewed) > 15_000, (pid, len(renewed), min(renewed, default=None))
    # Nobody was taken for gone: nothing put back, no note paid twice.
    assert not any(worker.stats.get("xhs/distributed/returned_to_queue") for worker in workers)
    seen = api.stats()
    assert set(seen["detail_billed_by_note"].values()) == {1}
    last_call = max(int(second) for second, counts in seen["by_second"].items() if counts.get("calls"))
    assert max(exited.values()) - (last_call + 1) <= IDLE_CLOSE + 10, (exited, last_call)
    # Nothing walked the keyspace.
    commands = client.info("commandstats")
    assert not {"cmdstat_scan", "cmdstat_keys"} & set(commands), sorted(commands)
    client.close()
