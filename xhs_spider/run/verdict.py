"""Whether a crawl the engine calls ``finished`` really did its job.

The engine finishes a crawl once nothing is left to do, also when nothing
could be done: an API that never answered, requests that never left, most
requests given up on. Cron and Scrapyd judge by the exit status, so such a
run gets a finish reason of its own (and exit status 1).
"""

from __future__ import annotations

from typing import Any

from xhs_spider import stats as keys
from xhs_spider.run.finish import FINISHED, NOTHING_SENT, TOO_MANY_GIVE_UPS, UNREACHABLE


def judged(reason: str, stats: dict[str, Any], max_give_up_share: float) -> str:
    """The finish reason a run that the engine ended with *reason* deserves."""
    if reason != FINISHED:
        return reason
    sent = stats.get(keys.REQUESTS, 0)
    answers = sum(keys.under(keys.CODE, stats).values()) + stats.get(keys.INVALID_BODY, 0)
    if stats.get(keys.REQUESTS_REFUSED, 0) and not sent:
        return NOTHING_SENT
    if sent and not answers:
        return UNREACHABLE
    give_ups = stats.get(keys.GIVE_UP, 0)
    if give_ups and give_ups > max_give_up_share * (give_ups + stats.get(keys.BILLED, 0)):
        return TOO_MANY_GIVE_UPS
    return reason
