"""One rate cap for every process that uses the token, kept in Redis.

The API limits calls per token, so every worker of a crawl, and every other
crawl with the same token, takes its calls' places on one grid of ``1/cap``
seconds: the same generic cell rate algorithm as
:class:`~xhs_spider.api.pacing.ApiPace`, run atomically by a Lua script in
Redis, one round trip per call. Redis's own clock (``TIME``) places the
calls, so the workers' clocks may disagree. The key is a keyed hash of the
token (:func:`token_key`), never the token.
:class:`~xhs_spider.middlewares.rate_limit.RateLimitMiddleware` holds a
:class:`SharedPace` in a shared crawl, and its own pace alone.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from xhs_spider.distributed.keys import PREFIX

if TYPE_CHECKING:
    from redis.asyncio import Redis

#: Takes the next free place on the grid (microseconds); returns how long to
#: wait for it. The key expires a second after the grid's last place.
GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local start = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local ttl = math.ceil((start + interval - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', start + interval), 'PX', ttl)
return start - now
"""


def token_key(token: str) -> str:
    """A name for *token* that Redis may hold: a keyed hash, never the token.

    Every process using one token computes the same name, so they share the
    limits the API sets per token, whatever their crawl.
    """
    digest = hmac.new(b"xhs-spider/token-limits", token.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def pace_key(token: str) -> str:
    return f"{PREFIX}:pace:{token_key(token)}"


class SharedPace:
    """``JUSTONEAPI_MAX_RPS`` for all processes using *token*, through *client*."""

    def __init__(self, client: Redis, token: str, cap: float):
        if cap <= 0:
            raise ValueError("cap must be above 0")
        self.cap = cap
        self.key = pace_key(token)
        self._interval_us = round(1_000_000 / cap)
        #: Seconds between two places on the grid.
        self.interval = self._interval_us / 1_000_000
        self._client = client
        self._gcra = client.register_script(GCRA)

    async def reserve(self) -> float:
        """Take the next call's place; the seconds to wait before sending it.

        Raises what :data:`~xhs_spider.distributed.connection.REDIS_ERRORS` names
        when Redis does not answer.
        """
        wait_us = await self._gcra(keys=[self.key], args=[self._interval_us])
        return max(0, int(wait_us)) / 1_000_000

    async def close(self) -> None:
        await self._client.aclose()
