"""Finish reasons: what each one means for the exit status, and how to end early.

The reasons an API business code gives are in :mod:`xhs_spider.api.codes`;
:class:`~xhs_spider.extensions.run_outcome.RunOutcome` decides which reason a
run ends with.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.utils.defer import deferred_from_coro

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

FINISHED = "finished"
#: Scrapy's reason for a crawl stopped by one Ctrl-C or SIGTERM (a pause, a
#: Scrapyd cancel): it did not do all its job, so it does not exit 0 either.
SHUTDOWN = "shutdown"
BAD_ARGUMENTS = "bad_arguments"
MISSING_TOKEN = "justoneapi_missing_token"
BUDGET_EXHAUSTED = "justoneapi_budget_exhausted"
STORE_UNREACHABLE = "xhs_store_unreachable"
STORE_SPILLED = "xhs_store_spilled"
STORE_LOST = "xhs_store_lost"
STORE_SPILL_PENDING = "xhs_spill_pending"
#: Ctrl-C or SIGTERM twice: the crawl was stopped before it could close.
FORCED_SHUTDOWN = "xhs_forced_shutdown"
ENDPOINT_FAILING = "justoneapi_endpoint_failing"
UNREACHABLE = "justoneapi_unreachable"
NOTHING_SENT = "justoneapi_requests_refused"
TOO_MANY_GIVE_UPS = "justoneapi_too_many_give_ups"
#: REDIS_URL stopped answering: the shared rate cap and budget cannot be kept.
REDIS_UNREACHABLE = "xhs_redis_unreachable"
#: A worker of a shared crawl (REDIS_URL) drained the queue of a crawl that was
#: never seeded to the end: its seeding worker stopped first.
CRAWL_NOT_SEEDED = "xhs_crawl_not_seeded"

#: What to check, for the run summary of a run that failed at its job.
ADVICE = {
    UNREACHABLE: "no call got an answer: check JUSTONEAPI_BASE_URL, the network and DNS",
    NOTHING_SENT: "no call left: JUSTONEAPI_BASE_URL must name the host the requests go to",
    TOO_MANY_GIVE_UPS: "the API failed too often (JUSTONEAPI_MAX_GIVE_UP_SHARE): see the give-ups "
    "above, run again later",
    ENDPOINT_FAILING: "every endpoint path answered only failures: check JUSTONEAPI_DETAIL_PATH "
    "and JUSTONEAPI_FEED_PATH against the vendor's documentation",
    BUDGET_EXHAUSTED: "JUSTONEAPI_MAX_BILLED_CALLS was reached: run again to go on (a crawl sharing "
    "its budget through Redis: raise it, or start a new XHS_CRAWL_ID)",
    STORE_SPILLED: "the store went away: once it is back, run scrapy replay-spill (or just crawl)",
    STORE_LOST: "operations could not even be spilled: see the log for how many",
    STORE_SPILL_PENDING: "files of earlier runs could not be replayed: fix or move them",
    FORCED_SHUTDOWN: "stopped before it could close: run the same command again",
    SHUTDOWN: "stopped on request: run the same command again to go on",
    REDIS_UNREACHABLE: "Redis (REDIS_URL) stopped answering: once it is back, run the same command again",
    CRAWL_NOT_SEEDED: "the worker seeding the shared crawl stopped first: run the same command "
    "again (with the same XHS_CRAWL_ID) to seed it again",
}

#: Finish reasons that mean the job did not do what it was asked to.
FAILED_PREFIXES = ("justoneapi_", "xhs_", BAD_ARGUMENTS, SHUTDOWN)
#: Exit status of a crawl that ended for a reason of the API or the store.
EXIT_FAILED = 1
#: Exit status of a command refused before it started (bad input).
EXIT_USAGE = 2


def failed(reason: str) -> bool:
    """Whether a run that ended with *reason* failed at its job."""
    return reason.startswith(FAILED_PREFIXES)


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
    if not crawler.crawling or crawler.engine is None:
        return
    closing = deferred_from_coro(crawler.engine.close_spider_async(reason=reason))
    closing.addErrback(
        lambda failure: logger.error(
            "Could not close the spider (%(reason)s): %(error)s",
            {"reason": reason, "error": failure.getErrorMessage()},
        )
    )
