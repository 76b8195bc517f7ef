"""The budget of billed calls of a shared crawl, kept in Redis for every worker.

:class:`~xhs_spider.middlewares.budget.BillingBudgetMiddleware` keeps the
budget; in a shared crawl its ledger is a :class:`SharedLedger`, this
module's. As alone, a call in flight may still be billed, so a worker sends a
call only after reserving it: the calls billed plus the calls held by every
worker stay under the budget, checked and taken in one Lua script (one round
trip), so two workers can never both take the last call. An answer settles
its reservation: it counts as billed, or is given back only when the answer
proves the call was free. A reservation never goes back otherwise: a worker
killed with reservations held (calls it may have sent) has them counted as
billed once it is found gone (its sign of life expired), and so has a worker
that closes with calls unanswered. So billed plus held never falls below the
calls the API may have billed, and with a budget of B the API bills at most B
in a session, whatever the kills.

The budget is a run's, as it is for a crawl alone: one *session* of the
crawl, from the first worker that starts while no other is alive to the last
one that stops. A worker killed and restarted meanwhile joins the session and
its count; running the crawl again once every worker has stopped (after its
budget was spent, say) starts a new session with the whole budget.

:class:`SharedBudget` is the budget's steps in Redis; :class:`SharedLedger`
is what the middleware holds: it joins the session before the first
reservation, keeps the worker's sign of life, and once Redis is gone ends the
crawl ``xhs_redis_unreachable`` and reserves nothing more.

Keys, under the crawl's namespace (``XHS_CRAWL_ID``):
``xhs:<crawl>:budget:billed`` (a count), ``…:budget:held`` (a hash, worker →
calls held) and ``…:budget:workers`` (a sorted set, worker → the instant its
sign of life expires, on Redis's clock).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.utils.asyncio import sleep

from xhs_spider.config.declarations import REDIS_URL
from xhs_spider.distributed.connection import REDIS_ERRORS, open_redis, redis_lost
from xhs_spider.distributed.keys import CrawlKeys
from xhs_spider.distributed.worker import shared_worker

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: Seconds without a sign of life after which a worker is gone: its
#: reservations count as billed. As long as the crawl's heartbeat
#: (:data:`~xhs_spider.distributed.worker.HEARTBEAT_TTL_MS`).
ALIVE_TTL = 30
#: Seconds between a worker's signs of life: one interval plus the worst stall
#: of the reactor on a Redis call (about 12 s) stays well inside ALIVE_TTL.
HEARTBEAT_INTERVAL = 5.0
#: Seconds the billed count outlives its last change.
BILLED_TTL = 30 * 24 * 3600
#: Seconds between two asks while the held calls could spend the budget.
HELD_RETRY_DELAY = 0.1

#: Redis's clock in milliseconds, in a script (the workers' clocks may differ).
NOW_MS = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
"""

#: KEYS: billed, held, workers. ARGV: worker, alive TTL (ms), 1 to start a
#: session if no other worker is alive. Returns 1 if a new session started.
JOIN = NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local started = 0
if ARGV[3] == '1' and redis.call('ZCARD', KEYS[3]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  started = 1
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
return started
"""

#: KEYS: billed, held, workers. ARGV: budget, worker, alive TTL (ms), billed
#: TTL (s). The calls held by gone workers count as billed (they may have been
#: sent), never freed. Returns {1 if reserved else 0, calls billed}.
RESERVE = NOW_MS + """
local billed = tonumber(redis.call('GET', KEYS[1]) or '0')
local budget = tonumber(ARGV[1])
if billed >= budget then return {0, billed} end
local held, gone = 0, 0
local holders = redis.call('HGETALL', KEYS[2])
for i = 1, #holders, 2 do
  local alive_until = tonumber(redis.call('ZSCORE', KEYS[3], holders[i]) or '0')
  if holders[i] == ARGV[2] or alive_until > now then
    held = held + tonumber(holders[i + 1])
  else
    gone = gone + math.max(0, tonumber(holders[i + 1]))
    redis.call('HDEL', KEYS[2], holders[i])
  end
end
if gone > 0 then
  billed = redis.call('INCRBY', KEYS[1], gone)
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
if billed + held >= budget then return {0, billed} end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
return {1, billed}
"""

#: KEYS: billed, held. ARGV: worker, 1 if billed else 0, billed TTL (s).
#: Returns the calls billed.
SETTLE = """
if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
end
if ARGV[2] == '1' then
  local billed = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return billed
end
return tonumber(redis.call('GET', KEYS[1]) or '0')
"""

#: KEYS: billed, held, workers. ARGV: worker, billed TTL (s). A worker
#: leaving: the calls it still holds were sent and never answered, so they
#: count as billed; it is no longer alive.
LEAVE = """
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
redis.call('HDEL', KEYS[2], ARGV[1])
if held > 0 then
  redis.call('INCRBY', KEYS[1], held)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
redis.call('ZREM', KEYS[3], ARGV[1])
return held
"""


@dataclass(frozen=True)
class Reservation:
    granted: bool
    billed: int


def budget_prefix(crawl_id: str) -> str:
    return f"{CrawlKeys(crawl_id).namespace}:budget"


class SharedBudget:
    """*budget* billed calls for all workers of crawl *crawl_id*, through *client*.

    Every method raises what :data:`~xhs_spider.distributed.connection.REDIS_ERRORS`
    names when Redis does not answer.
    """

    def __init__(self, client: Redis, crawl_id: str, budget: int, worker: str | None = None):
        self.budget = budget
        #: This worker's name in the budget's keys (the crawl's worker id when there is one).
        self.worker = worker or uuid.uuid4().hex[:16]
        prefix = budget_prefix(crawl_id)
        self.billed_key, self.held_key = f"{prefix}:billed", f"{prefix}:held"
        self.workers_key = f"{prefix}:workers"
        self._client = client
        self._join = client.register_script(JOIN)
        self._reserve = client.register_script(RESERVE)
        self._settle = client.register_script(SETTLE)
        self._leave = client.register_script(LEAVE)

    async def reserve(self) -> Reservation:
        """Hold one call of the budget, if billed plus held calls leave one."""
        granted, billed = await self._reserve(
            keys=[self.billed_key, self.held_key, self.workers_key],
            args=[self.budget, self.worker, ALIVE_TTL * 1000, BILLED_TTL],
        )
        return Reservation(bool(granted), int(billed))

    async def settle(self, billed: bool) -> int:
        """Give back one held call, counted as billed or not; the calls billed."""
        return int(await self._settle(
            keys=[self.billed_key, self.held_key], args=[self.worker, int(billed), BILLED_TTL],
        ))

    async def billed(self) -> int:
        return int(await self._client.get(self.billed_key) or 0)

    async def join(self) -> bool:
        """Join the crawl's session, or start one if no other worker is alive; True if started."""
        return bool(await self._join(
            keys=[self.billed_key, self.held_key, self.workers_key],
            args=[self.worker, ALIVE_TTL * 1000, 1],
        ))

    async def heartbeat(self) -> None:
        """This worker is alive: its reservations hold for ALIVE_TTL more seconds."""
        await self._join(
            keys=[self.billed_key, self.held_key, self.workers_key],
            args=[self.worker, ALIVE_TTL * 1000, 0],
        )

    async def close(self) -> int:
        """Leave the session: calls still held (sent, never answered) count as
        billed, never given back. Returns how many they were."""
        try:
            return int(await self._leave(keys=[self.billed_key, self.held_key, self.workers_key],
                                         args=[self.worker, BILLED_TTL]))
        finally:
            await self._client.aclose()


class SharedLedger:
    """A shared crawl's budget as
    :class:`~xhs_spider.middlewares.budget.BillingBudgetMiddleware` holds it:
    the steps of *budget* in Redis, with the session joined before the first
    reservation, a sign of life every HEARTBEAT_INTERVAL from the spider's
    opening, and the session left at its closing.

    Never raises when Redis is gone: the crawl ends ``xhs_redis_unreachable``
    (once), :attr:`lost` is set, and :meth:`reserve` grants nothing more.
    """

    def __init__(self, crawler: Crawler, budget: SharedBudget):
        self.crawler = crawler
        self.counts = budget
        #: Redis is gone: no call is reserved again.
        self.lost = False
        self._heartbeat: asyncio.Task[None] | None = None
        self._joined: asyncio.Task[None] | None = None
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def for_crawl(cls, crawler: Crawler, crawl_id: str, budget: int) -> Self:
        worker = shared_worker(crawler)
        counts = SharedBudget(open_redis(str(REDIS_URL.get(crawler.settings))), crawl_id, budget,
                              worker=None if worker is None else worker.worker_id)
        return cls(crawler, counts)

    async def reserve(self) -> Reservation | None:
        """One call of the budget held, or refused; ``None`` once Redis is gone."""
        if self.lost:
            return None
        try:
            await self._session()
            return await self.counts.reserve()
        except REDIS_ERRORS as error:
            self._lose(error, "reserving a call of the budget")
            return None

    async def settle(self, billed: bool) -> int | None:
        """The calls billed once a held call is settled; ``None`` if Redis did not count it."""
        try:
            return await self.counts.settle(billed)
        except REDIS_ERRORS as error:
            self._lose(error, "counting a billed call")
            return None

    async def wait(self) -> None:
        """Calls held here or by other workers may still be free: ask again soon."""
        if not self.lost:
            await sleep(HELD_RETRY_DELAY)


    def _lose(self, error: BaseException, doing: str) -> None:
        if not self.lost:
            self.lost = True
            redis_lost(self.crawler, error, doing)

    async def _session(self) -> None:
        """Joins the crawl's budget session (or starts one), once, before the first reservation."""
        if self._joined is None:
            self._joined = asyncio.ensure_future(self._join())
        await self._joined

    async def _join(self) -> None:
        if await self.counts.join():
            logger.info("A new budget session of the shared crawl: %(budget)d billed calls",
                        {"budget": self.counts.budget})

    def _opened(self) -> None:
        self._heartbeat = asyncio.ensure_future(self._keep_alive())

    async def _keep_alive(self) -> None:
        while not self.lost:
            try:
                await self._session()
                await self.counts.heartbeat()
            except REDIS_ERRORS as error:
                self._lose(error, "keeping this worker's reservations")
                return
            await sleep(HEARTBEAT_INTERVAL)

    async def close(self) -> None:
        """Leave the session: the calls still unanswered count as billed."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        try:
            unanswered = await self.counts.close()
        except REDIS_ERRORS:
            logger.warning("Could not count this worker's unanswered calls against the shared "
                           "budget: Redis is gone")
            return
        if unanswered:
            logger.info("%(count)d calls left unanswered count as billed in the shared budget.",
                        {"count": unanswered})
