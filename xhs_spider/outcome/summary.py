"""What a run did and what its money bought, from the crawl's stats."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from xhs_spider import stats as keys
from xhs_spider.outcome.reasons import ADVICE, FINISHED
from xhs_spider.run import readable

#: The items of a note's appearance: on a channel's feed, under a keyword, creator or topic.
APPEARANCE_ITEMS = ("FeedAppearanceItem", "AppearanceItem")
#: The endpoints of comment pages and reply pages (request meta ``justoneapi_endpoint``).
COMMENT_ENDPOINTS = ("comments", "sub_comments")
#: What a call to each endpoint buys: the summary's item types.
ITEM_TYPES = {
    "feed": "feed pages", "detail": "note details", "search": "search pages",
    "user_notes": "creator note lists", "topic_notes": "topic pages", "user": "creator profiles",
    "share": "share links", "comments": "comment pages", "sub_comments": "reply pages",
}


def _duration(stats: dict[str, Any]) -> float:
    started = stats.get("start_time")
    if not isinstance(started, datetime):
        return 0.0
    return round((datetime.now(tz=timezone.utc) - started).total_seconds(), 1)


def _invalid_by_field(stats: dict[str, Any]) -> dict[str, int]:
    prefix = keys.VALIDATION_FIELD.split("{", 1)[0]
    return {
        key[len(prefix):]: value
        for key, value in sorted(stats.items())
        if key.startswith(prefix) and not key.endswith("/dropped")
    }


def _item_count(stats: dict[str, Any], item_type: str) -> int:
    return stats.get(keys.ITEMS.format(item_type=item_type), 0)


def by_endpoint(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Calls sent and calls billed per endpoint (``detail``, ``feed``, ``search``…)."""
    sent, billed = keys.under(keys.REQUESTS_TO, stats), keys.under(keys.BILLED_BY, stats)
    return {
        endpoint: {"requests": sent.get(endpoint, 0), "billed": billed.get(endpoint, 0)}
        for endpoint in sorted(set(sent) | set(billed))
    }


def format_by_endpoint(endpoints: dict[str, dict[str, int]]) -> str:
    """``detail 12 sent/10 billed, search 3/3``: the summary's per-endpoint line."""
    parts = [f"{endpoint} {calls.get('requests', 0)}/{calls.get('billed', 0)}"
             for endpoint, calls in endpoints.items()]
    return ", ".join(parts) + " (sent/billed)" if parts else "none"


def by_item_type(endpoints: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """*endpoints*' calls sent and billed, named by what they buy (``note details``)."""
    order = list(ITEM_TYPES)
    ranked = sorted(endpoints, key=lambda name: order.index(name) if name in order else len(order))
    return {ITEM_TYPES.get(endpoint, endpoint): endpoints[endpoint] for endpoint in ranked}


def format_bought(bought: dict[str, int], endpoints: dict[str, dict[str, int]]) -> str:
    """``29 notes (29 new, 0 refreshed), 0 comments new for 32 billed calls: feed pages 3, …``."""
    billed = {kind: calls.get("billed", 0) for kind, calls in by_item_type(endpoints).items()}
    spent = ", ".join(f"{kind} {count}" for kind, count in billed.items() if count) or "nothing"
    return (f"{bought.get('notes_stored', 0)} notes ({bought.get('notes_new', 0)} new, "
            f"{bought.get('notes_refreshed', 0)} refreshed), {bought.get('comments_new', 0)} comments "
            f"new, {bought.get('comments_updated', 0)} updated for {sum(billed.values())} billed "
            f"calls: {spent}")


def _bought(stats: dict[str, Any]) -> dict[str, int]:
    """The notes and comments the run's billed calls brought."""
    return {
        "notes_stored": _item_count(stats, "NoteItem"),
        "notes_new": stats.get(keys.NOTES_NEW, 0),
        "notes_refreshed": stats.get(keys.NOTES_REFRESHED, 0),
        "comments_new": stats.get(keys.COMMENTS_NEW, 0),
        "comments_updated": stats.get(keys.COMMENTS_UPDATED, 0),
    }


def _comments(stats: dict[str, Any], endpoints: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Comment pages and reply pages sent and billed, comments new and updated."""
    return {
        "pages": endpoints.get("comments", {"requests": 0, "billed": 0}),
        "reply_pages": endpoints.get("sub_comments", {"requests": 0, "billed": 0}),
        "new": stats.get(keys.COMMENTS_NEW, 0),
        "updated": stats.get(keys.COMMENTS_UPDATED, 0),
        "stored": _item_count(stats, "CommentItem"),
        "notes": stats.get(keys.COMMENTS_NOTES, 0),
        "notes_skipped_fresh": stats.get(keys.COMMENTS_NOTES_FRESH, 0),
        "notes_claimed_elsewhere": stats.get(keys.COMMENTS_CLAIMED_ELSEWHERE, 0),
    }


def _discovery(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """What the search, user and topic spiders read: answers per endpoint, notes
    found per kind of source, why sources stopped paging."""
    return {
        "pages_read": keys.under(keys.DISCOVERY_READ, stats),
        "notes": keys.under(keys.DISCOVERY_NOTES, stats),
        "stopped": keys.under(keys.DISCOVERY_STOPPED, stats),
    }


def run_summary(stats: dict[str, Any], reason: str, arguments: dict[str, Any],
                feeds: dict[str, str] | None = None) -> dict[str, Any]:
    """A JSON-ready summary; the same dict goes to the log and to ``runs``.
    *feeds*: each feed export's file and what it receives."""
    get = stats.get
    endpoints = by_endpoint(stats)
    return {
        "arguments": {k: v for k, v in arguments.items() if v is not None},
        "feeds": feeds or {},
        "duration_seconds": _duration(stats),
        "finish_reason": reason,
        "channels": keys.under(keys.FEED_PAGES_BY_CHANNEL, stats),
        "feed_pages": get(keys.FEED_PAGES, 0),
        "appearances": sum(_item_count(stats, name) for name in APPEARANCE_ITEMS),
        "notes": {
            "new": get(keys.NOTES_NEW, 0),
            "refreshed": get(keys.NOTES_REFRESHED, 0),
            "skipped_fresh": get(keys.NOTES_SKIPPED_FRESH, 0),
            "unavailable": get(keys.NOTES_UNAVAILABLE, 0),
            "rejected": get(keys.NOTES_REJECTED, 0),
            "paid_without_note": keys.under(keys.NOTES_FAILED, stats),
            "claimed_elsewhere": get(keys.NOTES_CLAIMED_ELSEWHERE, 0),
            "stored": _item_count(stats, "NoteItem"),
            "not_attempted": get(keys.NOTES_NOT_ATTEMPTED, 0),
        },
        "bought": _bought(stats),
        "dry_run_billed_at_most": get(keys.DRY_RUN_BILLED_AT_MOST),
        "comments": _comments(stats, endpoints),
        "discovery": _discovery(stats),
        "dropped": {
            "invalid": keys.total(keys.VALIDATION_DROPPED, stats),
            "invalid_by_field": _invalid_by_field(stats),
            "duplicate": keys.total(keys.DEDUP_DROPPED, stats),
        },
        "api": {
            "requests": get(keys.REQUESTS, 0),
            "billed": get(keys.BILLED, 0),
            "by_code": keys.under(keys.CODE, stats),
            "by_endpoint": endpoints,
            "by_item_type": by_item_type(endpoints),
            "retries": get(keys.RETRY_COUNT, 0),
            "retry_reasons": keys.under(keys.RETRY_REASON, stats),
            "give_ups": get(keys.GIVE_UP, 0),
            "rate_limit_events": get(keys.RATE_LIMIT_EVENTS, 0),
            "rate_limit_lowest": get(keys.RATE_LIMIT_RATE_MIN),
            "give_ups_by_reason": keys.under(keys.GIVE_UP_BY, stats),
            "endpoints_moved_to": keys.under(keys.ENDPOINT_IN_USE, stats),
        },
    }


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}×{value}" for key, value in counts.items()) or "none"


def _note_outcome_lines(notes: dict[str, Any], reason: str) -> list[str]:
    """What the notes' own answers were, and a run that had nothing to pay for."""
    lines = []
    rejected = notes.get("rejected", 0)
    if rejected:
        lines.append(
            f"  refused notes  {rejected} answered code 400 for their note id: stored as failed "
            "(code_400), not asked again within XHS_DETAIL_TTL; to ask again: scrapy crawl note "
            "-a ids=ID,… (scrapy export notes -o failed.csv --status failed lists them)"
        )
    if notes.get("not_attempted") and reason != FINISHED:
        lines.append(f"  not attempted  {notes['not_attempted']} notes found were never fetched "
                     f"(the run ended {reason}): scrapy crawl note -a unfetched=true fetches them")
    if not notes["new"] and not notes["refreshed"] and notes["skipped_fresh"]:
        lines.append(f"  nothing new    nothing new to fetch: {notes['skipped_fresh']} notes fresh in "
                     "the store (XHS_DETAIL_TTL); -a refresh=true fetches them again")
    return lines


def comment_lines(comments: dict[str, Any]) -> list[str]:
    """The comments line, for a run (or a crawl) that asked for comment pages or stored comments."""
    pages, replies = comments.get("pages") or {}, comments.get("reply_pages") or {}
    if not any((pages.get("requests"), replies.get("requests"), comments.get("new"), comments.get("updated"),
                comments.get("notes"), comments.get("notes_skipped_fresh"))):
        return []
    return [
        f"  comments       {comments.get('new', 0)} new, {comments.get('updated', 0)} updated; "
        f"comment pages {pages.get('requests', 0)}/{pages.get('billed', 0)}, "
        f"reply pages {replies.get('requests', 0)}/{replies.get('billed', 0)} (sent/billed)",
        f"  comment notes  {comments.get('notes', 0)} paged, {comments.get('notes_skipped_fresh', 0)} "
        f"skipped as fresh (XHS_COMMENTS_TTL), {comments.get('notes_claimed_elsewhere', 0)} left to "
        "other crawls holding them",
    ]


def _discovery_lines(discovery: dict[str, dict[str, int]]) -> list[str]:
    if not any(discovery.values()):
        return []
    return [
        f"  discovery      notes found by source kind: {_counts(discovery.get('notes') or {})}; "
        f"pages read: {_counts(discovery.get('pages_read') or {})}; "
        f"stopped: {_counts(discovery.get('stopped') or {})}"
    ]


def format_summary(run_id: str, summary: dict[str, Any]) -> str:
    """The summary as a block of aligned lines, for the log."""
    notes, api, dropped = summary["notes"], summary["api"], summary["dropped"]
    channels = ", ".join(f"{oid} ({pages} p.)" for oid, pages in summary["channels"].items())
    arguments = " ".join(f"{k}={v}" for k, v in summary["arguments"].items())
    lines = [
        f"Run summary {run_id or ''}".rstrip(),
        f"  finish reason  {summary['finish_reason']} after "
        f"{readable.duration(summary['duration_seconds'])}",
        f"  arguments      {arguments or '-'}",
        f"  channels       {channels or '-'}",
        f"  feed pages     {summary['feed_pages']}, appearances {summary['appearances']}",
        f"  notes          {notes['new']} new, {notes['refreshed']} refreshed, "
        f"{notes['skipped_fresh']} skipped as fresh, {notes['unavailable']} unavailable, "
        f"{notes['stored']} note items",
        f"  paid, no note  {_counts(notes['paid_without_note'])}; "
        f"{notes['claimed_elsewhere']} left to other crawls holding them",
        f"  dropped        {dropped['invalid']} invalid ({_counts(dropped['invalid_by_field'])}), "
        f"{dropped['duplicate']} duplicate",
        f"  API calls      {api['requests']} sent, {api['billed']} billed; "
        f"by code: {_counts(api['by_code'])}",
        f"  by endpoint    {format_by_endpoint(api.get('by_endpoint', {}))}",
        f"  retries        {api['retries']} ({_counts(api['retry_reasons'])}), "
        f"give-ups {api['give_ups']} ({_counts(api.get('give_ups_by_reason', {}))}), "
        f"rate-limit events {api['rate_limit_events']}"
        + (f" (paced down to {readable.rate(api['rate_limit_lowest'])} at the lowest)"
           if api["rate_limit_lowest"] else ""),
    ]
    if summary.get("dry_run_billed_at_most") is not None:
        lines.append(f"  dry run        at most {summary['dry_run_billed_at_most']} billed calls; "
                     "no call made")
    if summary.get("bought") is not None:
        lines.append(f"  bought         {format_bought(summary['bought'], api.get('by_endpoint', {}))}")
    lines += _note_outcome_lines(notes, summary["finish_reason"])
    lines += comment_lines(summary.get("comments") or {})
    lines += _discovery_lines(summary.get("discovery") or {})
    for endpoint, path in api.get("endpoints_moved_to", {}).items():
        lines.append(f"  endpoints      {endpoint} moved to {path}: the first path answered only failures")
    feeds = ", ".join(f"{uri} ({what})" for uri, what in summary.get("feeds", {}).items())
    if feeds:
        lines.append(f"  feed files     {feeds}")
    advice = ADVICE.get(summary["finish_reason"])
    if advice:
        lines.append(f"  what to check  {advice}")
    return "\n".join(lines)
