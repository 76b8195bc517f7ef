"""The checks a run must pass, from its ``runs`` record; for the monitors and ``scrapy health``.

A run is judged on what its summary (``outcome/summary.py``, the same dict
the log and the store's ``runs`` record hold) says, and on the store's
earlier runs of the same spider and arguments. Each check that fails gives
one line; a run that passes them all gives none. Nothing here needs
spidermon or Scrapy's engine: the monitors at close and ``scrapy health``
both call :func:`run_problems`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from xhs_spider.config.declarations import (
    HEALTH_MAX_302_SHARE,
    HEALTH_MAX_BILLED_PER_NOTE,
    HEALTH_MAX_DROP,
    HEALTH_MAX_GIVE_UP_SHARE,
    HEALTH_MIN_COVERAGE,
    HEALTH_RUNS,
)
from xhs_spider.outcome.reasons import ADVICE, DRY_RUN, failed
from xhs_spider.run import readable
from xhs_spider.store.base import run_sort_key

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: The checks, in the order their lines are given.
FINISH_REASON = "finish_reason"
ITEM_COUNT = "item_count"
FIELD_COVERAGE = "field_coverage"
API_FAILURES = "api_failures"
BILLED_PER_NOTE = "billed_per_note"
CHECKS = (FINISH_REASON, ITEM_COUNT, FIELD_COVERAGE, API_FAILURES, BILLED_PER_NOTE)
#: The fields of NoteItem whose coverage is checked (``user``: the author's id).
COVERED_FIELDS = ("title", "likes", "user")
RATE_LIMITED_CODE = "302"
_AGE = re.compile(r"^(\d+)\s*([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Limits:
    runs: int = HEALTH_RUNS.default
    max_drop: float = HEALTH_MAX_DROP.default
    min_coverage: float = HEALTH_MIN_COVERAGE.default
    max_give_up_share: float = HEALTH_MAX_GIVE_UP_SHARE.default
    max_302_share: float = HEALTH_MAX_302_SHARE.default
    max_billed_per_note: float = HEALTH_MAX_BILLED_PER_NOTE.default

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Limits:
        """The limits the settings set; ``ValueError`` naming a bad one."""
        return cls(
            runs=HEALTH_RUNS.get(settings), max_drop=HEALTH_MAX_DROP.get(settings),
            min_coverage=HEALTH_MIN_COVERAGE.get(settings),
            max_give_up_share=HEALTH_MAX_GIVE_UP_SHARE.get(settings),
            max_302_share=HEALTH_MAX_302_SHARE.get(settings),
            max_billed_per_note=HEALTH_MAX_BILLED_PER_NOTE.get(settings),
        )


def item_count(summary: dict[str, Any]) -> int:
    """What a run scraped: its feed appearances and its notes stored."""
    return int(summary.get("appearances") or 0) + int((summary.get("notes") or {}).get("stored") or 0)


def note_fields_filled(note: dict[str, Any]) -> list[str]:
    """Those of :data:`COVERED_FIELDS` that a NoteItem's fields hold."""
    filled = []
    if note.get("title"):
        filled.append("title")
    if (note.get("counts") or {}).get("likes") is not None:
        filled.append("likes")
    if (note.get("author") or {}).get("user_id"):
        filled.append("user")
    return filled


def _job(run: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """The spider and its arguments (but ``_job`` and the like): runs of one job compare."""
    arguments = run.get("arguments") or {}
    return str(run.get("spider")), sorted(
        (str(k), str(v)) for k, v in arguments.items() if not str(k).startswith("_"))


def good(run: dict[str, Any]) -> bool:
    """A run that did its job: a dry run did none, so it is never the last
    good run, nor the baseline of the next one's item count."""
    reason = run.get("finish_reason")
    return bool(reason) and reason != DRY_RUN and not failed(str(reason))


def earlier_runs(run: dict[str, Any], runs: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The last *count* good runs of *run*'s job before it, oldest first."""
    before = [other for other in runs
              if other.get("run_id") != run.get("run_id") and good(other)
              and other.get("summary") and _job(other) == _job(run)
              and run_sort_key(other) < run_sort_key(run)]
    return sorted(before, key=run_sort_key)[-count:]


def run_problems(run: dict[str, Any], earlier: list[dict[str, Any]], limits: Limits,
                 coverage: dict[str, float] | None = None) -> dict[str, str]:
    """The checks *run* fails, each with its one line; *earlier*: the runs
    :func:`earlier_runs` gives; *coverage*: each covered field's share of
    the run's notes (known only while it runs)."""
    summary = run.get("summary") or {}
    problems = {
        FINISH_REASON: _finish_reason(run),
        ITEM_COUNT: _item_drop(summary, earlier, limits),
        FIELD_COVERAGE: _coverage(coverage, limits),
        API_FAILURES: _api_failures(summary, limits),
        BILLED_PER_NOTE: _billed_per_note(summary, limits),
    }
    return {check: line for check, line in problems.items() if line}


def _finish_reason(run: dict[str, Any]) -> str | None:
    reason = run.get("finish_reason")
    if not reason:
        return "no finish reason recorded (killed, or still running)"
    if not failed(str(reason)):
        return None
    advice = ADVICE.get(str(reason))
    return f"finish reason {reason} (exit status 1)" + (f": {advice}" if advice else "")


def _item_drop(summary: dict[str, Any], earlier: list[dict[str, Any]], limits: Limits) -> str | None:
    if not earlier or not summary:
        return None
    average = sum(item_count(run["summary"]) for run in earlier) / len(earlier)
    count = item_count(summary)
    if not average or count >= average * (1 - limits.max_drop):
        return None
    return (f"{count} items, {1 - count / average:.0%} below the average of {average:.0f} "
            f"of the last {len(earlier)} runs of the same spider and arguments "
            f"(XHS_HEALTH_MAX_DROP {limits.max_drop:.0%})")


def _coverage(coverage: dict[str, float] | None, limits: Limits) -> str | None:
    low = {name: share for name, share in (coverage or {}).items() if share < limits.min_coverage}
    if not low:
        return None
    shares = ", ".join(f"{name} {share:.0%}" for name, share in low.items())
    return f"notes with {shares}, under XHS_HEALTH_MIN_COVERAGE {limits.min_coverage:.0%}"


def _api_failures(summary: dict[str, Any], limits: Limits) -> str | None:
    api = summary.get("api") or {}
    sent = int(api.get("requests") or 0)
    if not sent:
        return None
    give_ups = int(api.get("give_ups") or 0)
    rate_limited = int((api.get("by_code") or {}).get(RATE_LIMITED_CODE) or 0)
    parts = []
    if give_ups / sent > limits.max_give_up_share:
        parts.append(f"{give_ups} of {sent} calls given up on ({give_ups / sent:.0%}, "
                     f"over XHS_HEALTH_MAX_GIVE_UP_SHARE {limits.max_give_up_share:.0%})")
    if rate_limited / sent > limits.max_302_share:
        parts.append(f"{rate_limited} of {sent} calls answered 302 ({rate_limited / sent:.0%}, "
                     f"over XHS_HEALTH_MAX_302_SHARE {limits.max_302_share:.0%})")
    return "; ".join(parts) or None


def _billed_per_note(summary: dict[str, Any], limits: Limits) -> str | None:
    stored = int((summary.get("notes") or {}).get("stored") or 0)
    billed = int((summary.get("api") or {}).get("billed") or 0)
    if not stored or billed / stored <= limits.max_billed_per_note:
        return None
    return (f"{billed} billed calls for {stored} notes stored ({billed / stored:.1f} a note, "
            f"over XHS_HEALTH_MAX_BILLED_PER_NOTE {limits.max_billed_per_note:g})")


# The dead-man check: scrapy health ------------------------------------------------


def parse_max_age(text: str) -> timedelta:
    """``--max-age``: ``90m``, ``2h``, ``1d`` or ``30s``; ``ValueError``, one line."""
    span = _AGE.match(text.strip().lower())
    if not span or not int(span.group(1)):
        raise ValueError(f"--max-age {text!r} is not a span such as 30m, 2h or 1d")
    return timedelta(seconds=int(span.group(1)) * _SECONDS[span.group(2)])


def _finished_at(run: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(run.get("finished_at")).replace("Z", "+00:00"))
    except ValueError:
        return None


def health_problems(runs: list[dict[str, Any]], *, max_age: timedelta, limits: Limits,
                    spider: str | None = None, crawl_id: str | None = None,
                    now: datetime | None = None) -> list[str]:
    """One line per problem of the last finished run of each spider (of
    *spider*, of the runs of *crawl_id*); none: every one is healthy."""
    now = now or datetime.now(timezone.utc)
    chosen = [run for run in runs if (spider is None or run.get("spider") == spider)
              and (crawl_id is None or run.get("crawl_id") == crawl_id)
              and run.get("finish_reason") != DRY_RUN]
    if not chosen:
        scope = " ".join(filter(None, [f"of spider {spider}" if spider else "",
                                       f"of crawl {crawl_id}" if crawl_id else ""]))
        return [f"no run {scope or 'at all'} in the store".replace("  ", " ")]
    lines = []
    for name in sorted({str(run.get("spider")) for run in chosen}):
        lines += _spider_problems(name, [run for run in chosen if str(run.get("spider")) == name],
                                  runs, max_age, limits, now)
    return lines


def _spider_problems(name: str, mine: list[dict[str, Any]], runs: list[dict[str, Any]],
                     max_age: timedelta, limits: Limits, now: datetime) -> list[str]:
    finished = sorted((run for run in mine if _finished_at(run) and run.get("finish_reason")),
                      key=lambda run: (_finished_at(run), str(run["run_id"])))
    if not finished:
        return [f"{name}: no run finished (killed, or still running)"]
    last = finished[-1]
    at = _finished_at(last)
    assert at is not None
    head = f"{name}: last run {last['run_id']} (finished {last.get('finished_at')})"
    if not good(last):
        return [f"{head}: {_finish_reason(last)}"]
    if now - at > max_age:
        return [f"{head}: {readable.duration((now - at).total_seconds())} ago, older than "
                f"--max-age {readable.duration(max_age.total_seconds())}"]
    earlier = earlier_runs(last, runs, limits.runs)
    return [f"{head}: {line}" for line in run_problems(last, earlier, limits).values()]
