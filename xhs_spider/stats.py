"""Every stats key the project writes, in one place.

What concerns the Just One API (calls, codes, billing, retries, feed pages)
is under ``justoneapi/``; the project's own bookkeeping (items, validation,
dedup, freshness, the store) under ``xhs/``, like its ``XHS_*`` settings.
A key with a ``{part}`` is a template: fill it with :meth:`str.format`.
``docs/stats.md`` documents every key here, and a test keeps it so.
"""

from __future__ import annotations

from typing import Any

API = "justoneapi"
OWN = "xhs"

# Calls to the API ---------------------------------------------------------------
REQUESTS = f"{API}/requests"
REQUESTS_TO = f"{API}/requests/{{endpoint}}"
BILLED = f"{API}/billed"
BILLED_BY = f"{API}/billed/{{endpoint}}"
POSSIBLY_BILLED = f"{API}/possibly_billed"
CODE = f"{API}/code/{{code}}"
INVALID_BODY = f"{API}/invalid_body"
REQUESTS_REBASED = f"{API}/requests_rebased"
#: Not sent: the URL's origin is not JUSTONEAPI_BASE_URL's.
REQUESTS_REFUSED = f"{API}/requests_refused"
ENDPOINT_SWITCHED = f"{API}/endpoint/switched/{{endpoint}}"
ENDPOINT_IN_USE = f"{API}/endpoint/in_use/{{endpoint}}"
#: Scrapy's get_retry_request writes ``count``, ``reason_count/…`` and
#: ``max_reached`` under this base.
RETRY_BASE_KEY = f"{API}/retry"
RETRY_COUNT = f"{RETRY_BASE_KEY}/count"
RETRY_REASON = f"{RETRY_BASE_KEY}/reason_count/{{reason}}"
RETRY_MAX_REACHED = f"{RETRY_BASE_KEY}/max_reached"
GIVE_UP = f"{API}/give_up"
GIVE_UP_BY = f"{API}/give_up/{{reason}}"
RATE_LIMITED = f"{API}/rate_limited"
RATE_LIMIT_EVENTS = f"{API}/rate_limit/events"
RATE_LIMIT_RATE = f"{API}/rate_limit/rate"
RATE_LIMIT_RATE_MIN = f"{API}/rate_limit/rate_min"
RATE_LIMIT_WAITED_MS = f"{API}/rate_limit/waited_ms"
#: Places on the shared grid (REDIS_URL) given up because the call woke too late.
RATE_LIMIT_SHARED_LATE = f"{API}/rate_limit/shared_late"

# What the API answered ----------------------------------------------------------
FEED_PAGES = f"{API}/feed/pages"
FEED_PAGES_BY_CHANNEL = f"{API}/feed/pages_by_channel/{{channel}}"
FEED_CARDS = f"{API}/feed/cards"
FEED_CARDS_SKIPPED = f"{API}/feed/cards_skipped/{{reason}}"
FEED_STOPPED_EARLY = f"{API}/feed/stopped_early/{{why}}"
FEED_MALFORMED_PAGE = f"{API}/feed/malformed_page"
FEED_NO_CONTENT = f"{API}/feed/no_content"
NOTES_UNAVAILABLE = f"{API}/notes/unavailable"
NOTES_MALFORMED_DETAIL = f"{API}/notes/malformed_detail"
#: Detail calls answered 400 for their note id: the note's outcome, not a give-up.
NOTES_REJECTED = f"{API}/notes/rejected"
#: A value the API sent that normalisation rejected as null, by item field.
FEED_INVALID = f"{API}/feed/invalid/{{field}}"
NOTES_INVALID = f"{API}/notes/invalid/{{field}}"

# The project's own ----------------------------------------------------------------
ITEMS = f"{OWN}/items/{{item_type}}"
VALIDATION_FIELD = f"{OWN}/validation/{{item_type}}/{{field}}"
VALIDATION_DROPPED = f"{OWN}/validation/{{item_type}}/dropped"
DEDUP_DROPPED = f"{OWN}/dedup/dropped/{{item_type}}"
NOTES_DETAIL_REQUESTED = f"{OWN}/notes/detail_requested"
NOTES_NEW = f"{OWN}/notes/new"
NOTES_REFRESHED = f"{OWN}/notes/refreshed"
NOTES_SKIPPED_FRESH = f"{OWN}/notes/skipped_fresh"
NOTES_STALE = f"{OWN}/notes/stale"
NOTES_UNFETCHED = f"{OWN}/notes/unfetched"
NOTES_CLAIMED_ELSEWHERE = f"{OWN}/notes/claimed_elsewhere"
NOTES_FAILED = f"{OWN}/notes/failed/{{reason}}"
NOTES_SKIPPED_SENT = f"{OWN}/notes/skipped_sent"
IDS_FILE_IDS = f"{OWN}/ids_file/ids"
IDS_FILE_BAD_LINES = f"{OWN}/ids_file/bad_lines"
STORE_RUN_ID = f"{OWN}/store/run_id"
STORE_BATCHES = f"{OWN}/store/batches"
STORE_OPERATIONS = f"{OWN}/store/operations"
STORE_RETRIES = f"{OWN}/store/retries"
STORE_SPILLED = f"{OWN}/store/spilled"
STORE_SPILL_FILE = f"{OWN}/store/spill_file"
STORE_LOST = f"{OWN}/store/lost"
STORE_JOURNAL_FAILED = f"{OWN}/store/journal_failed"
STORE_REPLAYED = f"{OWN}/store/replayed"
# Discovery beyond the feed (search, user, topic spiders; share links) ------------
#: Answers of a discovery endpoint (``search``, ``user_notes``, ``topic_notes``,
#: ``user``, ``share``) that could be read, and code-0 answers that could not.
DISCOVERY_READ = f"{OWN}/discovery/answers_read/{{endpoint}}"
DISCOVERY_UNREADABLE = f"{OWN}/discovery/answers_unreadable/{{endpoint}}"
DISCOVERY_NO_CONTENT = f"{OWN}/discovery/no_content/{{endpoint}}"
#: Notes found (appearances), by kind of source (keyword, user, topic).
DISCOVERY_NOTES = f"{OWN}/discovery/notes/{{kind}}"
DISCOVERY_SKIPPED = f"{OWN}/discovery/entries_skipped/{{reason}}"
DISCOVERY_INVALID = f"{OWN}/discovery/invalid/{{field}}"
#: Why sources stopped paging (xhs_spider.api.paging.STOP_REASONS, stored_note).
DISCOVERY_STOPPED = f"{OWN}/discovery/stopped/{{reason}}"
DISCOVERY_RESUMED = f"{OWN}/discovery/resumed_sources"
CREATORS_FETCHED = f"{OWN}/discovery/creators/fetched"
CREATORS_FRESH = f"{OWN}/discovery/creators/skipped_fresh"
SHARE_LINKS_RESOLVED = f"{OWN}/discovery/share_links/resolved"
SHARE_LINKS_KNOWN = f"{OWN}/discovery/share_links/known"
SHARE_LINKS_UNUSABLE = f"{OWN}/discovery/share_links/unusable"
# Comments (the comments spider, -a comments=N) ----------------------------------
#: Comment and reply pages answered, by endpoint (``comments``, ``sub_comments``);
#: billed ones are ``justoneapi/billed/{endpoint}``.
COMMENTS_PAGES = f"{OWN}/comments/pages/{{endpoint}}"
#: Notes whose comments this run paged (or resumed), and those left: fresh, or leased elsewhere.
COMMENTS_NOTES = f"{OWN}/comments/notes"
COMMENTS_NOTES_FRESH = f"{OWN}/comments/notes_skipped_fresh"
COMMENTS_CLAIMED_ELSEWHERE = f"{OWN}/comments/notes_claimed_elsewhere"
COMMENTS_RESUMED = f"{OWN}/comments/notes_resumed"
#: Comments and replies taken: not in the store before, or in it (updated).
COMMENTS_NEW = f"{OWN}/comments/new"
COMMENTS_UPDATED = f"{OWN}/comments/updated"
#: Comments a page showed again (inline replies on reply pages, repeats): taken once.
COMMENTS_DUPLICATES = f"{OWN}/comments/duplicates"
COMMENTS_SKIPPED = f"{OWN}/comments/entries_skipped/{{reason}}"
COMMENTS_INVALID = f"{OWN}/comments/invalid/{{field}}"
#: Why a note's comment paging (``comments``) or a comment's replies (``sub_comments``) stopped.
COMMENTS_STOPPED = f"{OWN}/comments/stopped/{{endpoint}}/{{reason}}"
#: Notes whose first page in latest order failed, asked again in normal order.
COMMENTS_SORT_FALLBACK = f"{OWN}/comments/sort_fallback"
DISTRIBUTED_CRAWL_ID = f"{OWN}/distributed/crawl_id"
DISTRIBUTED_WORKER = f"{OWN}/distributed/worker"
DISTRIBUTED_SEEDED = f"{OWN}/distributed/seeded"
DISTRIBUTED_DUPLICATES = f"{OWN}/distributed/duplicates"
DISTRIBUTED_RETURNED = f"{OWN}/distributed/returned_to_queue"
#: Entries of the shared queue that were not requests (a pickle, garbage…): dropped.
DISTRIBUTED_DROPPED = f"{OWN}/distributed/dropped_entries"
DISTRIBUTED_DROPPED_KIND = f"{OWN}/distributed/dropped_entries/{{kind}}"


def under(template: str, stats: dict[str, Any]) -> dict[str, Any]:
    """The values of the keys that fill *template*'s one trailing ``{part}``,
    by that part: ``under(CODE, stats) == {"0": 12, "302": 1}``."""
    prefix = template.split("{", 1)[0]
    return {
        key[len(prefix):]: value
        for key, value in sorted(stats.items())
        if key.startswith(prefix) and "/" not in key[len(prefix):]
    }


def total(template: str, stats: dict[str, Any]) -> int:
    """The sum of every key that fills *template*, whatever its parts."""
    head, _, tail = template.partition("{")
    tail = tail.rsplit("}", 1)[-1]
    return sum(
        value for key, value in stats.items()
        if key.startswith(head) and key.endswith(tail) and len(key) > len(head) + len(tail)
    )

# Run health (xhs_spider/monitoring, docs/monitoring.md) ------------------------------
#: NoteItems with the field filled (title, likes, user): their coverage is checked.
HEALTH_FIELD_FILLED = f"{OWN}/health/field_filled/{{field}}"
#: How many health checks the run failed at close (0: healthy).
HEALTH_FAILED_CHECKS = f"{OWN}/health/failed_checks"

# Cost, before and after (-a dry_run=true; notes left when a run stops early) --------
#: Notes whose detail this run asked for and never got an answer to (queued
#: when the budget, a quota or a stop ended the run): ``note -a unfetched=true`` fetches them.
NOTES_NOT_ATTEMPTED = f"{OWN}/notes/not_attempted"
#: ``-a dry_run=true``: the most billed calls the run would make (no call made).
DRY_RUN_BILLED_AT_MOST = f"{OWN}/dry_run/billed_at_most"
