"""Whether a crawl the engine calls ``finished`` really did its job.

The engine finishes a crawl once nothing is left to do, also when nothing
could be done: an API that never answered, requests that never left, most
requests given up on. Cron and Scrapyd judge by the exit status, so such a
run gets a finish reason of its own (and exit status 1).

What a run is judged on is the API failing: give-ups after their retries
(network errors, 5xx, 301, …). A detail answered 400 for its note id is
that note's outcome (``justoneapi/notes/rejected``), not the API failing;
only when at least the minimum sample of them came and no detail call
succeeded is the call at fault, and they count as give-ups. A discovery
endpoint (search, a creator's or a topic's notes, a profile, a share link)
that answered code 0 (billed) without one answer the crawl could read ends
the run ``justoneapi_unreadable_answers``: never ``finished`` with 0 notes. The share of
give-ups is judged on at least ``JUSTONEAPI_MIN_GIVE_UP_SAMPLE`` calls; a
smaller run fails on its give-ups only when none of its calls was billed.
"""

from __future__ import annotations

from typing import Any

from xhs_spider import stats as keys
from xhs_spider.outcome.reasons import (
    FINISHED,
    NOTHING_SENT,
    TOO_MANY_GIVE_UPS,
    UNREACHABLE,
    UNREADABLE_ANSWERS,
)


def judged(reason: str, stats: dict[str, Any], max_give_up_share: float,
           min_sample: int) -> str:
    """The finish reason a run that the engine ended with *reason* deserves."""
    if reason != FINISHED:
        return reason
    sent = stats.get(keys.REQUESTS, 0)
    answers = sum(keys.under(keys.CODE, stats).values()) + stats.get(keys.INVALID_BODY, 0)
    if stats.get(keys.REQUESTS_REFUSED, 0) and not sent:
        return NOTHING_SENT
    if sent and not answers:
        return UNREACHABLE
    if gave_up_too_often(stats, max_give_up_share, min_sample):
        return TOO_MANY_GIVE_UPS
    if unreadable_endpoints(stats):
        return UNREADABLE_ANSWERS
    return reason


def unreadable_endpoints(stats: dict[str, Any]) -> list[str]:
    """The endpoints that answered code 0 but none of whose answers could be read."""
    return [
        endpoint for endpoint, count in keys.under(keys.DISCOVERY_UNREADABLE, stats).items()
        if count and not stats.get(keys.DISCOVERY_READ.format(endpoint=endpoint), 0)
    ]


def failed_calls(stats: dict[str, Any], min_sample: int) -> int:
    """The calls that count as the API failing: the give-ups, and the notes
    refused (400) when at least *min_sample* were and no detail was billed."""
    failures = stats.get(keys.GIVE_UP, 0)
    rejected = stats.get(keys.NOTES_REJECTED, 0)
    if rejected >= min_sample and not stats.get(keys.BILLED_BY.format(endpoint="detail"), 0):
        failures += rejected
    return failures


def gave_up_too_often(stats: dict[str, Any], max_share: float, min_sample: int) -> bool:
    failures = failed_calls(stats, min_sample)
    if not failures:
        return False
    billed = stats.get(keys.BILLED, 0)
    judged_calls = failures + billed
    if judged_calls < min_sample:
        return not billed  # too few calls for a share: only nothing at all is a failure
    return failures > max_share * judged_calls
