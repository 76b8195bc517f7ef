"""What a run did and what its money bought, from the crawl's stats."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

PREFIX = "justoneapi/"


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {
        key[len(prefix) :]: value
        for key, value in sorted(stats.items())
        if key.startswith(prefix) and "/" not in key[len(prefix) :]
    }


def _duration(stats: dict[str, Any]) -> float:
    started = stats.get("start_time")
    if not isinstance(started, datetime):
        return 0.0
    return round((datetime.now(tz=timezone.utc) - started).total_seconds(), 1)


def _invalid_by_field(stats: dict[str, Any]) -> dict[str, int]:
    prefix = f"{PREFIX}validation/"
    return {
        key[len(prefix) :]: value
        for key, value in sorted(stats.items())
        if key.startswith(prefix) and not key.endswith("/dropped")
    }


def run_summary(stats: dict[str, Any], reason: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready summary; the same dict goes to the log and to ``runs``."""
    get = stats.get
    return {
        "arguments": {k: v for k, v in arguments.items() if v is not None},
        "duration_seconds": _duration(stats),
        "finish_reason": reason,
        "channels": _prefixed(stats, f"{PREFIX}feed/pages_by_channel/"),
        "feed_pages": get(f"{PREFIX}feed/pages", 0),
        "appearances": get(f"{PREFIX}items/FeedAppearanceItem", 0),
        "notes": {
            "new": get(f"{PREFIX}notes/new", 0),
            "refreshed": get(f"{PREFIX}notes/refreshed", 0),
            "skipped_fresh": get(f"{PREFIX}notes/skipped_fresh", 0),
            "unavailable": get(f"{PREFIX}notes/unavailable", 0),
            "stored": get(f"{PREFIX}items/NoteItem", 0),
        },
        "dropped": {
            "invalid": sum(
                v for k, v in stats.items() if k.startswith(f"{PREFIX}validation/") and k.endswith("/dropped")
            ),
            "invalid_by_field": _invalid_by_field(stats),
            "duplicate": sum(v for k, v in stats.items() if k.startswith(f"{PREFIX}dedup/dropped/")),
        },
        "api": {
            "requests": get(f"{PREFIX}requests", 0),
            "billed": get(f"{PREFIX}billed", 0),
            "by_code": _prefixed(stats, f"{PREFIX}code/"),
            "retries": get(f"{PREFIX}retry/count", 0),
            "retry_reasons": _prefixed(stats, f"{PREFIX}retry/reason_count/"),
            "give_ups": get(f"{PREFIX}give_up", 0),
            "rate_limit_delay_max": get(f"{PREFIX}rate_limit/delay_max", 0),
        },
    }


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}×{value}" for key, value in counts.items()) or "none"


def format_summary(run_id: str, summary: dict[str, Any]) -> str:
    """The summary as a block of aligned lines, for the log."""
    notes, api, dropped = summary["notes"], summary["api"], summary["dropped"]
    channels = ", ".join(f"{oid} ({pages} p.)" for oid, pages in summary["channels"].items())
    arguments = " ".join(f"{k}={v}" for k, v in summary["arguments"].items())
    lines = [
        f"Run summary {run_id or ''}".rstrip(),
        f"  finish reason  {summary['finish_reason']} after {summary['duration_seconds']} s",
        f"  arguments      {arguments or '-'}",
        f"  channels       {channels or '-'}",
        f"  feed pages     {summary['feed_pages']}, appearances {summary['appearances']}",
        f"  notes          {notes['new']} new, {notes['refreshed']} refreshed, "
        f"{notes['skipped_fresh']} skipped as fresh, {notes['unavailable']} unavailable, "
        f"{notes['stored']} note items",
        f"  dropped        {dropped['invalid']} invalid ({_counts(dropped['invalid_by_field'])}), "
        f"{dropped['duplicate']} duplicate",
        f"  API calls      {api['requests']} sent, {api['billed']} billed; "
        f"by code: {_counts(api['by_code'])}",
        f"  retries        {api['retries']} ({_counts(api['retry_reasons'])}), "
        f"give-ups {api['give_ups']}, largest rate-limit delay {api['rate_limit_delay_max']} s",
    ]
    return "\n".join(lines)
