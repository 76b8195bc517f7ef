"""What a shared limit costs a call: round trips to a loopback redis-server.

    .venv/bin/python -m benchmarks.shared_limits_cost [--calls 2000]

Times, with redis.asyncio as the crawl uses it, a place on the shared grid
(:class:`~xhs_spider.distributed.pace.SharedPace`), a budget reservation with
its settlement (:class:`~xhs_spider.distributed.ledger.SharedBudget`) and a
bare ``PING``; then checks that three clients asking at once get places one
``1/cap`` apart.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable

from tests.redis_server import RedisServer
from xhs_spider.distributed.connection import open_redis
from xhs_spider.distributed.ledger import SharedBudget
from xhs_spider.distributed.pace import SharedPace

GRID_CAP = 50.0
GRID_CALLS = 150


async def timed(calls: int, step: Callable[[], Awaitable[object]]) -> str:
    await step()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await step()
        times.append(time.perf_counter() - started)
    times.sort()
    return f"median {statistics.median(times) * 1000:.3f} ms, p99 {times[int(len(times) * 0.99)] * 1000:.3f} ms"


async def grid_span(url: str) -> float:
    paces = [SharedPace(open_redis(url), "grid", GRID_CAP) for _ in range(3)]
    places: list[float] = []

    async def call(pace: SharedPace) -> None:
        places.append(time.monotonic() + await pace.reserve())

    await asyncio.gather(*(call(paces[n % 3]) for n in range(GRID_CALLS)))
    for pace in paces:
        await pace.close()
    return max(places) - min(places)


async def measure(url: str, calls: int) -> None:
    pace = SharedPace(open_redis(url), "token", 1e6)  # a cap no call waits for
    budget = SharedBudget(open_redis(url), "crawl", 10**9)
    ping = open_redis(url)

    async def reserve_and_settle() -> None:
        await budget.reserve()
        await budget.settle(billed=True)

    print(f"place on the grid:        {await timed(calls, pace.reserve)}")
    print(f"budget reserve + settle:  {await timed(calls, reserve_and_settle)}")
    print(f"PING:                     {await timed(calls, ping.ping)}")
    span = await grid_span(url)
    print(f"3 clients, {GRID_CALLS} places at {GRID_CAP:g}/s: span {span:.3f} s "
          f"(ideal {(GRID_CALLS - 1) / GRID_CAP:.3f} s)")
    await pace.close()
    await budget.close()
    await ping.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xhs-bench-redis-") as work, RedisServer(work) as redis:
        asyncio.run(measure(redis.url, args.calls))


if __name__ == "__main__":
    main()
