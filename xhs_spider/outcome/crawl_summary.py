"""The figures of a whole crawl: the sum of its runs' summaries.

The workers of a crawl shared through Redis (``XHS_CRAWL_ID``) each write
their own ``runs`` record, naming the crawl; so do the runs of a JOBDIR
crawl resumed after a pause. ``scrapy crawl-summary CRAWL_ID`` adds them up.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from xhs_spider.outcome.reasons import FINISHED, failed
from xhs_spider.outcome.summary import comment_lines, format_by_endpoint

#: Counts in a run summary that add up across runs, by (section, name).
ADDED = (
    (None, "feed_pages"), (None, "appearances"),
    ("notes", "new"), ("notes", "refreshed"), ("notes", "skipped_fresh"),
    ("notes", "unavailable"), ("notes", "stored"),
    ("api", "requests"), ("api", "billed"), ("api", "retries"), ("api", "give_ups"),
    ("comments", "new"), ("comments", "updated"), ("comments", "stored"), ("comments", "notes"),
    ("comments", "notes_skipped_fresh"), ("comments", "notes_claimed_elsewhere"),
)
#: A run with no end recorded was killed (or is still running).
UNFINISHED = "none recorded (killed, or still running)"
#: Crawls listed by ``scrapy crawl-summary`` without an id.
RECENT = 20


def crawl_summary(crawl_id: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole crawl's figures from its *runs* records (any order)."""
    mine = [run for run in runs if run.get("crawl_id") == crawl_id]
    totals: dict[str, Any] = {"notes": {}, "api": {}, "comments": {}}
    by_code: Counter[str] = Counter()
    for section, name in ADDED:
        values = [_figure(run, section, name) for run in mine]
        (totals if section is None else totals[section])[name] = sum(values)
    by_endpoint: dict[str, Counter[str]] = {}
    for run in mine:
        api = (run.get("summary") or {}).get("api", {})
        by_code.update(api.get("by_code", {}))
        for endpoint, calls in (api.get("by_endpoint") or {}).items():
            by_endpoint.setdefault(endpoint, Counter()).update(
                {name: value for name, value in calls.items() if isinstance(value, int)})
    totals["api"]["by_code"] = dict(sorted(by_code.items()))
    totals["api"]["by_endpoint"] = {
        endpoint: {"requests": calls["requests"], "billed": calls["billed"]}
        for endpoint, calls in sorted(by_endpoint.items())
    }
    # Comment pages and reply pages: the runs' calls to those endpoints.
    totals["comments"]["pages"] = totals["api"]["by_endpoint"].get(
        "comments", {"requests": 0, "billed": 0})
    totals["comments"]["reply_pages"] = totals["api"]["by_endpoint"].get(
        "sub_comments", {"requests": 0, "billed": 0})
    reasons = [run.get("finish_reason") or UNFINISHED for run in mine]
    by_end = sorted((str(run.get("finished_at") or ""), reason) for run, reason in zip(mine, reasons, strict=True))
    return {
        "crawl_id": crawl_id,
        "runs": [
            {"run_id": run["run_id"], "started_at": run.get("started_at"),
             "finish_reason": reason}
            for run, reason in zip(mine, reasons, strict=True)
        ],
        "outcome": _outcome([reason for _, reason in by_end]),
        **totals,
    }


def _figure(run: dict[str, Any], section: str | None, name: str) -> int:
    summary = run.get("summary") or {}
    value = summary.get(name) if section is None else summary.get(section, {}).get(name)
    return value if isinstance(value, int) else 0


def _outcome(reasons: list[str]) -> str:
    """The reason of the last run to end (*reasons* in the order the runs
    ended): runs killed or stopped before it were resumed by it."""
    ended = [reason for reason in reasons if reason != UNFINISHED]
    if not ended:
        return UNFINISHED
    return FINISHED if not failed(ended[-1]) else ended[-1]


def format_crawl_summary(summary: dict[str, Any]) -> str:
    notes, api = summary["notes"], summary["api"]
    codes = ", ".join(f"{code}×{count}" for code, count in api["by_code"].items()) or "none"
    lines = [
        f"Crawl summary {summary['crawl_id']}",
        f"  outcome        {summary['outcome']} ({_runs(len(summary['runs']))})",
        f"  feed pages     {summary['feed_pages']}, appearances {summary['appearances']}",
        f"  notes          {notes['new']} new, {notes['refreshed']} refreshed, "
        f"{notes['skipped_fresh']} skipped as fresh, {notes['unavailable']} unavailable, "
        f"{notes['stored']} note items",
        f"  API calls      {api['requests']} sent, {api['billed']} billed; by code: {codes}",
        f"  by endpoint    {format_by_endpoint(api['by_endpoint'])}",
        f"  retries        {api['retries']}, give-ups {api['give_ups']}",
        *comment_lines(summary.get("comments") or {}),
    ]
    lines += [f"  run            {run['run_id']}  {run['finish_reason']}" for run in summary["runs"]]
    return "\n".join(lines)


def recent_crawls(runs: list[dict[str, Any]], limit: int = RECENT) -> list[dict[str, Any]]:
    """The *limit* crawls of *runs* started last, newest first: id, runs, last start, outcome."""
    newest_first = sorted(runs, key=lambda run: str(run.get("started_at") or ""), reverse=True)
    ids = list(dict.fromkeys(run["crawl_id"] for run in newest_first if run.get("crawl_id")))
    crawls = []
    for crawl_id in ids[:limit]:
        summary = crawl_summary(crawl_id, runs)
        crawls.append({
            "crawl_id": crawl_id, "runs": len(summary["runs"]),
            "last_started_at": max(str(run["started_at"] or "") for run in summary["runs"]),
            "outcome": summary["outcome"],
        })
    return crawls


def format_recent_crawls(crawls: list[dict[str, Any]], store: str) -> str:
    if not crawls:
        return f"No crawl in {store} yet."
    lines = [f"Crawls in {store}, the latest first (scrapy crawl-summary CRAWL_ID sums one up):"]
    width = max(len(crawl["crawl_id"]) for crawl in crawls)
    lines += [
        f"  {crawl['crawl_id']:<{width}}  last run started {crawl['last_started_at'] or '?'}, "
        f"{_runs(crawl['runs'])}, outcome {crawl['outcome']}"
        for crawl in crawls
    ]
    return "\n".join(lines)


def _runs(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"
