"""The mark of a finished shared crawl: its id is not joined again.

A worker that closes with the whole crawl quiet (nothing queued, no live
worker busy) and seeded to the end marks the crawl finished, with when, in
``xhs:<id>:finished`` (the first mark stays). A worker started later with the
same ``XHS_CRAWL_ID`` is refused before any call
(:mod:`xhs_spider.distributed.preflight`), instead of joining a drained queue,
making no call and ending ``finished``: the silent success of a scheduled job
with a fixed id.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from xhs_spider.api.normalize import now_iso
from xhs_spider.distributed import scripts
from xhs_spider.distributed.connection import REDIS_ERRORS

if TYPE_CHECKING:
    import redis

    from xhs_spider.distributed.keys import CrawlKeys

logger = logging.getLogger(__name__)


def mark_finished(server: redis.Redis, keys: CrawlKeys) -> bool:
    """On a thread: mark the crawl finished if Redis agrees it is (queue empty, seeded)."""
    try:
        marked = server.register_script(scripts.MARK_FINISHED)(
            keys=[keys.finished, keys.requests, keys.seeded], args=[now_iso()])
    except REDIS_ERRORS as exc:
        logger.warning("Could not mark the shared crawl %(crawl)s finished: %(error)s",
                       {"crawl": keys.crawl_id, "error": exc})
        return False
    if marked:
        logger.info("The shared crawl %(crawl)s is finished: its id starts no new work.",
                    {"crawl": keys.crawl_id})
    return bool(marked)
