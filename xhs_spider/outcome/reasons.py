"""Every finish reason, what it means for the exit status, and what to check.

Names and numbers only: this module imports nothing of the project, so the
API's vocabulary (:mod:`xhs_spider.api.codes`, which business code ends the
crawl with which reason) and every component can name a reason from here.
``docs/stats.md`` documents each one, with its exit status (a test keeps the
two in step).

A constant is the reason's value without its ``justoneapi_`` or ``xhs_``
prefix, except where that short name is a stats key too: then it is spelled
in full (``XHS_STORE_LOST``, where ``stats.STORE_LOST`` counts the lost
operations).
"""

from __future__ import annotations

FINISHED = "finished"
#: Scrapy's reason for a crawl stopped by one Ctrl-C or SIGTERM (a pause, a
#: Scrapyd cancel): it did not do all its job, so it does not exit 0 either.
SHUTDOWN = "shutdown"
BAD_ARGUMENTS = "bad_arguments"
#: ``-a dry_run=true``: the run said what it would cost and made no call (exit 0).
DRY_RUN = "dry_run"
MISSING_TOKEN = "justoneapi_missing_token"
BUDGET_EXHAUSTED = "justoneapi_budget_exhausted"
STORE_UNREACHABLE = "xhs_store_unreachable"
XHS_STORE_SPILLED = "xhs_store_spilled"
XHS_STORE_LOST = "xhs_store_lost"
STORE_SPILL_PENDING = "xhs_spill_pending"
#: Ctrl-C or SIGTERM twice: the crawl was stopped before it could close.
FORCED_SHUTDOWN = "xhs_forced_shutdown"
ENDPOINT_FAILING = "justoneapi_endpoint_failing"
UNREACHABLE = "justoneapi_unreachable"
NOTHING_SENT = "justoneapi_requests_refused"
TOO_MANY_GIVE_UPS = "justoneapi_too_many_give_ups"
#: A discovery endpoint answered code 0 (billed) but none of its answers could be read.
UNREADABLE_ANSWERS = "justoneapi_unreadable_answers"
#: REDIS_URL stopped answering: the shared rate cap and budget cannot be kept.
REDIS_UNREACHABLE = "xhs_redis_unreachable"
#: A worker of a shared crawl (REDIS_URL) drained the queue of a crawl that was
#: never seeded to the end: its seeding worker stopped first.
CRAWL_NOT_SEEDED = "xhs_crawl_not_seeded"

# The account cannot make calls: the business codes that give these are in
# xhs_spider.api.codes.FINISH_REASONS.
INVALID_TOKEN = "justoneapi_invalid_token"
DAILY_QUOTA_EXCEEDED = "justoneapi_daily_quota_exceeded"
PERMISSION_DENIED = "justoneapi_permission_denied"
INSUFFICIENT_BALANCE = "justoneapi_insufficient_balance"
ACCOUNT_SUSPENDED = "justoneapi_account_suspended"

#: What to check, for the run summary of a run that failed at its job.
ADVICE = {
    UNREACHABLE: "no call got an answer: check JUSTONEAPI_BASE_URL, the network and DNS",
    NOTHING_SENT: "no call left: JUSTONEAPI_BASE_URL must name the host the requests go to",
    TOO_MANY_GIVE_UPS: "the API failed too often (JUSTONEAPI_MAX_GIVE_UP_SHARE): see the give-ups "
    "above, run again later",
    ENDPOINT_FAILING: "every path of an endpoint answered only failures: check its setting "
    "(JUSTONEAPI_DETAIL_PATH, JUSTONEAPI_SEARCH_PATH, ...) against the vendor's documentation",
    UNREADABLE_ANSWERS: "an endpoint answered in a shape the crawl cannot read: its raw answers "
    "are in the store (raw_answers) and the journal; report them, or put another path first "
    "in the endpoint's setting",
    BUDGET_EXHAUSTED: "JUSTONEAPI_MAX_BILLED_CALLS was reached: run again to go on (a crawl sharing "
    "its budget through Redis: raise it, or start a new XHS_CRAWL_ID)",
    XHS_STORE_SPILLED: "the store went away: once it is back, run scrapy replay-spill (or just crawl)",
    XHS_STORE_LOST: "operations could not even be spilled: see the log for how many",
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


def exit_status(reason: str) -> int:
    """The exit status of ``scrapy crawl`` for a run that ended with *reason*:
    Cron and Scrapyd see a stopped token, quota or store as a failure."""
    return EXIT_FAILED if failed(reason) else 0
