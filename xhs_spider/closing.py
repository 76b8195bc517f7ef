"""Ending a crawl early with a named finish reason."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.utils.defer import deferred_from_coro

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def kept_for_resume(request: Request) -> Request:
    """*request*, handed back to the scheduler instead of being dropped.

    A crawl that stops (quota, balance, budget) closes its scheduler with
    this request in it, so a JOBDIR crawl asks for it when resumed; without
    JOBDIR it is simply discarded at close. ``dont_filter``: the dupefilter
    has seen it already.
    """
    kept = request.copy()
    kept.dont_filter = True
    return kept


def close_crawl(crawler: Crawler, reason: str) -> None:
    """Ask the engine to close the spider with *reason*, without waiting.

    The first reason wins: the engine ignores later requests to close.
    """
    if not crawler.crawling:
        return
    closing = deferred_from_coro(crawler.engine.close_spider_async(reason=reason))
    closing.addErrback(
        lambda failure: logger.error(
            "Could not close the spider (%(reason)s): %(error)s",
            {"reason": reason, "error": failure.getErrorMessage()},
        )
    )
