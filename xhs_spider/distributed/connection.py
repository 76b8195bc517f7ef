"""Every connection to ``REDIS_URL``: one timeout and retry policy, and what Redis gone means.

Two kinds of client, one policy. The shared limits (the rate cap of
:mod:`.pace`, the budget of :mod:`.ledger`) call Redis on the reactor's
asyncio loop through ``redis.asyncio`` (:func:`open_redis`): nothing blocks
the reactor thread. scrapy-redis's scheduler and dupefilter, the worker and
the preflight use blocking clients (the worker's on threads), which
scrapy-redis builds from ``REDIS_PARAMS``: :mod:`.setup` gives it
:func:`redis_params`, and :func:`sync_redis` builds ours the same way, so
every client of a crawl has the same short timeouts and few retries. A Redis
that went away is noticed within seconds, and the crawl ends
``xhs_redis_unreachable`` (:func:`redis_lost`) instead of waiting, or
sending calls nobody paced.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from scrapy_redis.connection import get_redis_from_settings

from xhs_spider.outcome.extension import close_crawl
from xhs_spider.outcome.reasons import REDIS_UNREACHABLE

if TYPE_CHECKING:
    import redis
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: Seconds to connect to Redis or wait for an answer (scrapy-redis's own: 30).
REDIS_TIMEOUT = 2.0
#: Tries after the first, with a back-off of 0.05 s doubling up to 0.5 s.
REDIS_RETRIES = 2
#: Seconds a connection may stay idle before it is checked (a PING) on its next use.
HEALTH_CHECK_INTERVAL = 30
#: What a call to Redis raises when Redis is gone.
REDIS_ERRORS = (RedisError, OSError)


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=0.5, base=0.05)


def redis_params() -> dict[str, Any]:
    """The connection policy, as the keyword arguments of a blocking client
    (scrapy-redis's ``REDIS_PARAMS``): short timeouts, few retries."""
    return {
        "socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT,
        "retry_on_timeout": False,
        "retry": Retry(_backoff(), retries=REDIS_RETRIES),
        "health_check_interval": HEALTH_CHECK_INTERVAL,
    }


def open_redis(url: str) -> AsyncRedis:
    """An asyncio client of *url* with the policy; it connects on its first command."""
    return AsyncRedis.from_url(
        url, **{**redis_params(), "retry": AsyncRetry(_backoff(), retries=REDIS_RETRIES)},
    )


def sync_redis(settings: BaseSettings) -> redis.Redis:
    """A blocking client of the crawl's Redis, built as scrapy-redis builds the
    scheduler's (``REDIS_URL``, ``REDIS_PARAMS``): never on the reactor thread."""
    return get_redis_from_settings(settings)


def redis_lost(crawler: Crawler, error: BaseException, doing: str,
               why: str = "rather than calling the API without the shared limits") -> None:
    """End the crawl loudly: Redis no longer keeps a shared limit (or the shared queue)."""
    logger.error(
        "Redis (REDIS_URL) did not answer while %(doing)s: %(error)s; stopping the crawl %(why)s.",
        {"doing": doing, "error": type(error).__name__, "why": why},
    )
    close_crawl(crawler, REDIS_UNREACHABLE)
