"""The connection that shared limits (rate cap, budget) keep to ``REDIS_URL``.

Every call to Redis happens on the reactor's asyncio loop through
``redis.asyncio``: nothing blocks the reactor thread. Timeouts are short and
retries few, so a Redis that went away is noticed within seconds and the
crawl ends ``xhs_redis_unreachable`` instead of waiting, or sending calls
nobody paced.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from xhs_spider.outcome.extension import close_crawl
from xhs_spider.outcome.reasons import REDIS_UNREACHABLE

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Seconds to connect to Redis or wait for an answer.
REDIS_TIMEOUT = 2.0
#: Tries after the first, with a back-off of 0.05 s doubling up to 0.5 s.
REDIS_RETRIES = 2
#: What a call to Redis raises when Redis is gone.
REDIS_ERRORS = (RedisError, OSError)


def open_redis(url: str) -> Redis:
    """A client of *url*; it connects on its first command."""
    return Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=REDIS_RETRIES),
        health_check_interval=30,
    )


def token_key(token: str) -> str:
    """A name for *token* that Redis may hold: a keyed hash, never the token.

    Every process using one token computes the same name, so they share the
    limits the API sets per token, whatever their crawl.
    """
    digest = hmac.new(b"xhs-spider/token-limits", token.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def redis_lost(crawler: Crawler, error: BaseException, doing: str,
               why: str = "rather than calling the API without the shared limits") -> None:
    """End the crawl loudly: Redis no longer keeps a shared limit (or the shared queue)."""
    logger.error(
        "Redis (REDIS_URL) did not answer while %(doing)s: %(error)s; stopping the crawl %(why)s.",
        {"doing": doing, "error": type(error).__name__, "why": why},
    )
    close_crawl(crawler, REDIS_UNREACHABLE)
