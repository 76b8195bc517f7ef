"""What each Just One API business code means for the crawl.

The body's ``code`` decides, whatever the HTTP status. Anything not listed
here is treated as a failure of that one request (retried), never as success.
A detail call answered 400 is about its one note id: that is the note's
outcome (recorded in the store, like a 201), not the API failing.
"""

from __future__ import annotations

import enum

from xhs_spider.outcome import reasons


class Action(enum.Enum):
    PASS = "pass"  # success: hand the response to the spider
    NO_CONTENT = "no_content"  # billed, nothing to parse, never retried
    RETRY = "retry"  # transient: retry with backoff, bounded
    # Retry with no wait of its own, bounded (JUSTONEAPI_RATE_LIMIT_RETRY_TIMES):
    # RateLimitMiddleware saw the 302 first and slowed the pace of every call.
    RATE_LIMITED = "rate_limited"
    GIVE_UP = "give_up"  # this request can never succeed as asked
    REJECTED_NOTE = "rejected_note"  # a detail's note id refused: the note's outcome
    STOP = "stop"  # the account cannot make calls: stop the whole crawl


SUCCESS = 0
NO_CONTENT = 201
RATE_LIMIT_EXCEEDED = 302

BILLED_CODES = frozenset({SUCCESS, NO_CONTENT})

#: Codes that end the crawl, and the finish reason each one gives.
FINISH_REASONS: dict[int, str] = {
    100: reasons.INVALID_TOKEN,
    101: reasons.INVALID_TOKEN,
    303: reasons.DAILY_QUOTA_EXCEEDED,
    600: reasons.PERMISSION_DENIED,
    601: reasons.INSUFFICIENT_BALANCE,
    602: reasons.ACCOUNT_SUSPENDED,
}

GIVE_UP_CODES = frozenset({400, 404})
#: Codes a detail call answers about its one note id ("Invalid Parameters"):
#: the note's outcome, recorded, never retried and not a give-up.
REJECTED_NOTE_CODES = frozenset({400})

MESSAGES: dict[int, str] = {
    0: "Success",
    100: "Invalid or Inactive Token",
    101: "Token Expired",
    201: "No Content",
    301: "Collection Failed. Please Retry.",
    302: "Rate Limit Exceeded",
    303: "Daily Quota Exceeded",
    400: "Invalid Parameters",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
    600: "Permission Denied",
    601: "Insufficient Balance",
    602: "Account Suspended",
}


def action_for(code: int, *, detail: bool = False) -> Action:
    """What to do with an answer of *code*; *detail*: to a detail call."""
    if code == SUCCESS:
        return Action.PASS
    if code == NO_CONTENT:
        return Action.NO_CONTENT
    if code == RATE_LIMIT_EXCEEDED:
        return Action.RATE_LIMITED
    if code in FINISH_REASONS:
        return Action.STOP
    if detail and code in REJECTED_NOTE_CODES:
        return Action.REJECTED_NOTE
    if code in GIVE_UP_CODES:
        return Action.GIVE_UP
    return Action.RETRY
