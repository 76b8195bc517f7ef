"""The rate cap and the budget shared through a real redis-server on loopback.

Several workers are several Redis clients (and several crawlers built with
``get_crawler``); whole crawls in separate processes are in
test_crawl_shared_limits.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Request, Spider, signals
from scrapy.http import HtmlResponse, JsonResponse
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from tests.conftest import ADDON, TOKEN
from tests.redis_server import RedisServer
from xhs_spider.api.client import JustOneApi
from xhs_spider.api.envelope import billed_unless_proved_free
from xhs_spider.distributed.connection import REDIS_RETRIES, REDIS_TIMEOUT, open_redis
from xhs_spider.distributed.ledger import (
    ALIVE_TTL,
    HEARTBEAT_INTERVAL,
    Reservation,
    SharedBudget,
    SharedLedger,
)
from xhs_spider.distributed.pace import SharedPace, pace_key, token_key
from xhs_spider.middlewares.budget import BillingBudgetMiddleware
from xhs_spider.middlewares.rate_limit import RateLimitMiddleware
from xhs_spider.outcome.reasons import REDIS_UNREACHABLE, failed


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(Path(tmp_path_factory.mktemp("redis"))) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    client = redis_server.client()
    client.flushall()
    client.close()
    return redis_server.url


def crawler_settings(redis_url: str, **settings: str) -> dict[str, object]:
    return {**ADDON, "JUSTONEAPI_TOKEN": TOKEN, "REDIS_URL": redis_url, "XHS_CRAWL_ID": "crawl-1",
            **settings}


def test_the_pace_key_names_the_token_without_holding_it() -> None:
    assert TOKEN not in pace_key(TOKEN) and TOKEN not in token_key(TOKEN)
    assert pace_key(TOKEN) == pace_key(TOKEN)  # every crawl with the token shares the cap
    assert pace_key(TOKEN) != pace_key(TOKEN + "x")


@deferred_f_from_coro_f
async def test_workers_take_places_on_one_grid(redis_url: str, redis_server: RedisServer) -> None:
    workers = [SharedPace(open_redis(redis_url), TOKEN, 20.0) for _ in range(3)]
    sent: list[float] = []

    async def call(pace: SharedPace) -> None:
        wait = await pace.reserve()
        sent.append(time.monotonic() + wait)

    await asyncio.gather(*(call(workers[n % 3]) for n in range(30)))
    sent.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    # 1/20 s apart; when each task resumes after its round trip blurs the
    # readings by a few ms on a busy machine.
    assert min(gaps) > 0.025
    assert 1.35 < sent[-1] - sent[0] < 1.6  # 29 gaps of 50 ms: no call held back more
    for pace in workers:
        await pace.close()
    stored = redis_server.all_keys_and_values()
    assert list(stored) == [pace_key(TOKEN).encode()]
    assert TOKEN.encode() not in repr(stored).encode()


@deferred_f_from_coro_f
async def test_the_budget_is_never_overshot_by_workers_racing(redis_url: str) -> None:
    workers = [SharedBudget(open_redis(redis_url), "crawl-1", 5) for _ in range(3)]
    grants = await asyncio.gather(*(workers[n % 3].reserve() for n in range(60)))
    assert sum(grant.granted for grant in grants) == 5
    held = [n % 3 for n, grant in enumerate(grants) if grant.granted]
    assert (await workers[held[0]].reserve()).granted is False
    assert await workers[held[0]].settle(billed=False) == 0  # given back: one call free again
    assert (await workers[2].reserve()).granted is True
    for n in held[1:]:
        await workers[n].settle(billed=True)
    assert await workers[0].billed() == 4
    refused = await workers[1].reserve()
    assert (refused.granted, refused.billed) == (False, 4)  # 4 billed + 1 held
    await workers[2].settle(billed=True)
    assert (await workers[0].reserve()) == type(refused)(granted=False, billed=5)
    for worker in workers:
        await worker.close()


@deferred_f_from_coro_f
async def test_a_dead_workers_reservations_count_as_billed_never_spent_again(
    redis_url: str, redis_server: RedisServer,
) -> None:
    """Issue 17: a gone worker's reservations were dropped, and the calls it had
    sent were paid again (27 billed against 24). They were sent: they are billed."""
    dead, alive = (SharedBudget(open_redis(redis_url), "crawl-1", 3) for _ in range(2))
    assert (await dead.reserve()).granted and (await dead.reserve()).granted
    assert (await alive.reserve()).granted
    assert not (await alive.reserve()).granted
    assert await alive.settle(billed=False) == 0  # a 301: proved free, given back
    redis_server.client().zrem(dead.workers_key, dead.worker)  # its sign of life expired
    # Its two calls now count as billed: one call of the three is left, not three.
    assert await alive.reserve() == Reservation(granted=True, billed=2)
    assert await alive.reserve() == Reservation(granted=False, billed=2)
    assert await alive.billed() == 2
    assert redis_server.client().hkeys(alive.held_key) == [alive.worker.encode()]
    await dead.close()
    await alive.close()


@deferred_f_from_coro_f
async def test_a_worker_closing_with_calls_unanswered_counts_them_billed(redis_url: str) -> None:
    leaving, staying = (SharedBudget(open_redis(redis_url), "crawl-1", 5) for _ in range(2))
    for _ in range(3):
        assert (await leaving.reserve()).granted
    await leaving.settle(billed=True)
    assert await leaving.close() == 2  # sent, never answered: never given back
    assert await staying.billed() == 3
    assert await staying.reserve() == Reservation(granted=True, billed=3)
    assert await staying.reserve() == Reservation(granted=True, billed=3)
    assert (await staying.reserve()).granted is False
    await staying.close()


def test_a_live_workers_sign_of_life_outlasts_its_worst_stall() -> None:
    """A live worker taken for gone would count its calls twice: its sign of
    life is renewed well before it expires, even after the reactor waited out
    the longest Redis call (each try a connect and an answer timing out)."""
    worst_stall = (REDIS_RETRIES + 1) * 2 * REDIS_TIMEOUT + REDIS_RETRIES * 0.5
    assert HEARTBEAT_INTERVAL + worst_stall <= 0.6 * ALIVE_TTL


@deferred_f_from_coro_f
async def test_the_budget_is_a_sessions_a_crawl_run_again_after_every_worker_stopped_has_it_all(
    redis_url: str,
) -> None:
    first = SharedBudget(open_redis(redis_url), "crawl-2", 2)
    assert await first.join() is True  # no other worker alive: a new session
    for _ in range(2):
        assert (await first.reserve()).granted
        await first.settle(billed=True)
    joining = SharedBudget(open_redis(redis_url), "crawl-2", 2)
    assert await joining.join() is False  # a worker (re)started meanwhile shares the count
    assert (await joining.reserve()) == Reservation(granted=False, billed=2)
    await first.close()
    await joining.close()
    again = SharedBudget(open_redis(redis_url), "crawl-2", 2)
    assert await again.join() is True  # every worker had stopped: the crawl run again
    assert (await again.reserve()).granted
    await again.close()


@deferred_f_from_coro_f
async def test_the_shared_budget_middleware_stops_every_worker(redis_url: str) -> None:
    settings = crawler_settings(redis_url, JUSTONEAPI_MAX_BILLED_CALLS="2")
    crawlers = [get_crawler(Spider, settings) for _ in range(2)]
    first, second = (BillingBudgetMiddleware.from_crawler(crawler) for crawler in crawlers)
    # In a shared crawl the budget is the crawl's, in Redis, not each worker's own.
    assert isinstance(first.ledger, SharedLedger) and isinstance(second.ledger, SharedLedger)
    api = JustOneApi.from_crawler(crawlers[0])
    requests = [api.detail_request(f"{n:024x}") for n in range(4)]
    assert await first.process_request(requests[0]) is None
    assert await second.process_request(requests[1]) is None
    waiting = asyncio.ensure_future(second.process_request(requests[2]))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # 2 held by the two workers could spend the budget
    await first.process_response(requests[0], answer(requests[0], 301))  # not billed: given back
    assert await asyncio.wait_for(waiting, 2) is None
    for request in requests[1:3]:
        await second.process_response(request, answer(request, 0))
    assert second.spent
    kept = await first.process_request(requests[3])
    assert kept is not None and kept.dont_filter and first.spent  # never sent
    for ledger in (first.ledger, second.ledger):
        await ledger.close()


def test_only_an_unbilled_code_proves_a_call_free() -> None:
    request = Request("https://api.example/x")
    assert billed_unless_proved_free(answer(request, 0)) and billed_unless_proved_free(answer(request, 201))
    assert not billed_unless_proved_free(answer(request, 301))
    # A proxy's error page or a cut-off body proves nothing: the call may have been billed.
    page = HtmlResponse(request.url, status=502, body=b"<html>Bad gateway</html>", request=request)
    assert billed_unless_proved_free(page)
    assert billed_unless_proved_free(JsonResponse(request.url, body=b'{"code": 0, "da', request=request))
    cached = JsonResponse(request.url, body=b'{"code": 0}', request=request, flags=["cached"])
    assert not billed_unless_proved_free(cached)


@deferred_f_from_coro_f
async def test_a_worker_closing_with_calls_in_flight_leaves_them_billed(redis_url: str) -> None:
    crawler = get_crawler(Spider, crawler_settings(redis_url, JUSTONEAPI_MAX_BILLED_CALLS="3"))
    mw = BillingBudgetMiddleware.from_crawler(crawler)
    api = JustOneApi.from_crawler(crawler)
    for n in range(2):
        assert await mw.process_request(api.detail_request(f"{n:024x}")) is None
    await crawler.signals.send_catch_log_async(signals.spider_closed, spider=None, reason="shutdown")
    other = SharedBudget(open_redis(redis_url), "crawl-1", 3)
    assert await other.billed() == 2
    await other.close()


@deferred_f_from_coro_f
@pytest.mark.integration
async def test_redis_gone_stops_pacing_and_sends_nothing(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as server:
        crawler = get_crawler(Spider, crawler_settings(server.url, JUSTONEAPI_MAX_RPS="50"))
        mw = RateLimitMiddleware.from_crawler(crawler)
        request = JustOneApi.from_crawler(crawler).detail_request(f"{1:024x}")
        assert await mw.process_request(request) is None
    started = time.monotonic()
    kept = await mw.process_request(request)
    assert kept is not None and kept.dont_filter and mw.redis_gone  # back to the scheduler, unsent
    assert time.monotonic() - started < 10
    assert await mw.process_request(request) is not None  # no further call waits for Redis
    assert failed(REDIS_UNREACHABLE)  # exit status 1
    assert mw.shared is not None
    await mw.shared.close()


def answer(request: Request, code: int) -> JsonResponse:
    return JsonResponse(request.url, body=json.dumps({"code": code, "data": None}).encode(), request=request)


@deferred_f_from_coro_f
async def test_302s_still_slow_a_worker_down_under_the_shared_cap(redis_url: str) -> None:
    crawler = get_crawler(Spider, crawler_settings(redis_url, JUSTONEAPI_MAX_RPS="100",
                                                   JUSTONEAPI_RATE_BACKOFF="0.5"))
    mw = RateLimitMiddleware.from_crawler(crawler)
    api = JustOneApi.from_crawler(crawler)
    requests = [api.detail_request(f"{n:024x}") for n in range(20)]
    for request in requests:  # 20 calls at the shared cap of 100/s
        assert await mw.process_request(request) is None
    mw.process_response(requests[0], answer(requests[0], 302))
    assert crawler.stats.get_value("justoneapi/rate_limit/events") == 1
    slowed = mw.pace.rate
    assert slowed is not None and 20 < slowed < 80  # half this worker's own sending rate
    mw.pace.reserve()
    assert mw.pace.reserve() > 0  # the worker's own pace now holds calls back
    assert mw.shared is not None
    await mw.shared.close()


@deferred_f_from_coro_f
@pytest.mark.integration
async def test_redis_gone_stops_the_shared_budget_and_sends_nothing(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as server:
        crawler = get_crawler(Spider, crawler_settings(server.url, JUSTONEAPI_MAX_BILLED_CALLS="10"))
        mw = BillingBudgetMiddleware.from_crawler(crawler)
        api = JustOneApi.from_crawler(crawler)
        sent = api.detail_request(f"{1:024x}")
        assert await mw.process_request(sent) is None
    await mw.process_response(sent, answer(sent, 0))  # its count cannot reach Redis
    assert isinstance(mw.ledger, SharedLedger) and mw.ledger.lost
    kept = await mw.process_request(api.detail_request(f"{2:024x}"))
    assert kept is not None and kept.dont_filter and not mw.in_flight
    await mw.ledger.close()  # Redis is gone: a warning, no error
