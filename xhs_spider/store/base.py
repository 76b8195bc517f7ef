"""The note store's interface and data model, shared by its backends.

Thirteen collections (SQLite tables, MongoDB collections) hold what the crawl saw:

``notes``
    One record per note id. Bookkeeping: ``note_id``; ``status`` ("seen":
    only in feeds so far, "ok": its detail is stored, "unavailable": the
    detail endpoint answered 201, no content, "failed": a paid detail gave
    no note, or the API refused the note id, see ``failed_reason``);
    ``first_seen_at`` and ``last_seen_at`` (earliest and latest time any
    operation saw it); ``detail_fetched_at`` (null until a detail);
    ``unavailable_at`` (null unless the newest news about the note is a 201);
    ``failed_at`` and ``failed_reason`` (the newest detail call that gave no
    note: "invalid", "mismatched_id", "callback_error", "code_400": the API
    answered 400 for the note id, unbilled); ``channels`` (sorted channel
    oids it was seen in); ``sources`` (sorted ``"kind:value"`` names of
    every source it was seen under: ``"channel:homefeed_food_v3"``,
    ``"keyword:咖啡"``, ``"user:<user id>"``, ``"topic:<topic id>"``);
    ``comments_fetched_at``, ``comments_counter``, ``comments_stored``
    (the newest complete paging of its comments: when it finished, the
    note's comment counter when it began, the comments it stored; null
    before any).
    When a detail exists, the newest detail's fields (:data:`DETAIL_FIELDS`)
    sit at the top level of the record.
``feed_appearances``
    One per (run_id, source_kind, source_value, page, position): the
    appearance item's fields plus ``run_id``; a feed card's (a
    FeedAppearanceItem) also gets ``source_kind`` "channel" and
    ``source_value`` its channel. Stores made before there were other
    sources are migrated to this at open.
``note_metrics``
    One counter snapshot per detail fetch, unique on (note_id, fetched_at).
``runs``
    One per crawl, keyed by ``run_id``; each write merges its fields into the
    record (later values replace earlier ones of the same name).
``feed_pages``
    One per (crawl_id, channel, page) read: ``cards``, ``new_notes``,
    ``next`` (whether the channel goes on after it) and ``at``. A resumed
    crawl carries on each channel from these.
``source_pages``
    One per (crawl_id, source_kind, source_value, page) of a keyword's,
    creator's or topic's notes read: ``cursor`` (asked with),
    ``next_cursor``, ``notes``, ``new_notes``, ``next`` (whether the source
    goes on after it), ``stop`` (why not, or null) and ``at``.
``creators``
    One per ``user_id``: the newest creator profile's fields (by
    ``fetched_at``; of two with the same time, the first written stays).
``raw_answers``
    One per (run_id, endpoint, source_kind, source_value, page): a paid
    discovery answer in which no note was recognised, its ``body`` as received.
``share_links``
    One per ``url``: the share link's ``resolved_url`` and ``at`` (the
    newest resolution), so a link is paid for once.
``comments``
    One per ``comment_id``: the newest CommentItem's fields (by
    ``fetched_at``; of two with the same time, the first written stays) and
    ``first_fetched_at``.
``comment_metrics``
    One like-count snapshot per (comment_id, fetched_at): ``note_id``,
    ``likes``, ``run_id``.
``claims``
    One lease per note a crawl is asking the API about: ``crawl_id``,
    ``run_id``, ``expires_at``. Another crawl does not pay for a note under a
    live lease of someone else's; see :meth:`NoteStore.claim`.
``comment_claims``
    The same, for the notes whose comments a crawl is paging
    (:meth:`NoteStore.claim_comments`): independent of the detail leases.

A note record depends only on the *set* of operations ever written about
the note, never on their order, so replaying a spill file after a crash, or
writing a batch twice, leaves the store as it was. For that, the newest of a
note's detail and its 201 decides its status, a tie going to the detail: a
replayed old detail or old 201 cannot overwrite newer news.

All times are ISO-8601 UTC strings ("2026-11-22T13:36:42Z"), stored as such:
they sort lexicographically, and compare equal across backends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.note_state import (
    CHANNEL,
    DETAIL_FIELDS,
    NoteState,
    appearance_source,
    note_states,
    source_name,
)

__all__ = ["CHANNEL", "DETAIL_FIELDS", "NoteState", "note_states", "source_name"]  # part of the interface

#: The counters of a ``note_metrics`` snapshot, read from the detail's counts.
COUNTERS = ("likes", "collects", "comments", "shares", "reads", "impressions", "follows")
COLLECTIONS = (
    "notes", "feed_appearances", "note_metrics", "runs", "feed_pages", "claims",
    "source_pages", "creators", "raw_answers", "share_links", "comments", "comment_metrics",
    "comment_claims",
)
#: The key of a ``feed_pages`` record.
PAGE_KEY = ("crawl_id", "channel", "page")
#: The key of a ``feed_appearances`` record.
APPEARANCE_KEY = ("run_id", "source_kind", "source_value", "page", "position")
#: The key of a ``source_pages`` record.
SOURCE_PAGE_KEY = ("crawl_id", "source_kind", "source_value", "page")
#: The key of a ``raw_answers`` record.
RAW_ANSWER_KEY = ("run_id", "endpoint", "source_kind", "source_value", "page")
#: The collections :meth:`NoteStore.records` reads, and the order it gives.
RECORD_ORDER = {
    "feed_appearances": APPEARANCE_KEY,
    "source_pages": SOURCE_PAGE_KEY,
    "creators": ("user_id",),
    "raw_answers": RAW_ANSWER_KEY,
    "share_links": ("url",),
    "comments": ("note_id", "comment_id"),
}
#: The key of a ``comment_metrics`` record.
COMMENT_METRIC_KEY = ("comment_id", "fetched_at")


class StoreUnavailable(Exception):
    """The store cannot be reached (connection lost, server down, file locked).

    The caller may retry later, or spill the batch to disk and replay it.
    """


class StoreGone(StoreUnavailable):
    """The store's file was deleted or replaced: retrying cannot help."""


def metric_snapshot(item: dict, run_id: str) -> dict:
    """The ``note_metrics`` record of one detail."""
    counts = item.get("counts") or {}
    snapshot = {"note_id": item["note_id"], "fetched_at": item["crawled_at"], "run_id": run_id}
    snapshot.update((name, counts.get(name)) for name in COUNTERS)
    return snapshot


def appearance_record(item: dict, run_id: str) -> dict:
    """The ``feed_appearances`` record of one appearance item (of the feed or
    of another source)."""
    kind, value = appearance_source(item)
    return {**item, "run_id": run_id, "source_kind": kind, "source_value": value}


def creator_record(item: dict, run_id: str) -> dict:
    """The ``creators`` record of one creator item."""
    return {**item, "run_id": run_id}


def raw_answer_record(item: dict, run_id: str) -> dict:
    """The ``raw_answers`` record of one raw answer item."""
    return {**item, "run_id": run_id}


def comment_metric(item: dict, run_id: str) -> dict:
    """The ``comment_metrics`` record of one comment item: its likes when fetched."""
    return {"comment_id": item["comment_id"], "fetched_at": item["fetched_at"],
            "note_id": item["note_id"], "likes": item.get("likes"), "run_id": run_id}


def comment_target(
    note_id: str, counter: Any, fetched_at: str | None, comments_counter: Any, stale_before: str,
) -> dict | None:
    """What :meth:`NoteStore.comment_targets` gives for a note, if its
    comments are needed: never fetched, fetched before *stale_before*, or its
    comment counter (*counter*, from its latest detail) above the one when
    they were (both known)."""
    counter = counter if _is_count(counter) else None
    grown = counter is not None and _is_count(comments_counter) and counter > comments_counter
    if fetched_at is None or fetched_at < stale_before or grown:
        return {"note_id": note_id, "counter": counter, "comments_fetched_at": fetched_at,
                "comments_counter": comments_counter}
    return None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def comment_target_order(target: dict) -> tuple[bool, str, str]:
    """Never fetched first, then the longest ago; by note id."""
    fetched_at = target["comments_fetched_at"]
    return fetched_at is not None, fetched_at or "", target["note_id"]


def pick_comment_targets(
    rows: Iterable[tuple[str, Any, str | None, Any]], stale_before: str, limit: int | None,
    given: list[str] | None = None,
) -> list[dict]:
    """:meth:`NoteStore.comment_targets` of the notes' *rows* (note id, the
    latest detail's comment counter, comments_fetched_at, comments_counter):
    in the order of *given* note ids (those without a row never fetched), else
    neediest first."""
    if given is None:
        found = (comment_target(*row, stale_before) for row in rows)
        targets = sorted((target for target in found if target is not None), key=comment_target_order)
    else:
        by_id = {row[0]: row for row in rows}
        found = (comment_target(*by_id.get(note_id, (note_id, None, None, None)), stale_before)
                 for note_id in dict.fromkeys(given))
        targets = [target for target in found if target is not None]
    return targets if limit is None else targets[:limit]


@dataclass(frozen=True)
class Lease:
    """Who asks the API about a note, until when, unless it is fresh."""

    crawl_id: str
    run_id: str
    now: str
    expires_at: str
    fresh_since: str | None


class NoteStore(ABC):
    """Where the crawl keeps notes, feed appearances, metrics and runs.

    Built closed; :meth:`open` connects. Every method may raise
    :class:`StoreUnavailable` when the store cannot be reached.
    """

    #: Where the store lives, safe to log (no password).
    display_uri: str

    @abstractmethod
    def open(self) -> None:
        """Connect, and create the collections and their indexes."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect; closing a closed store does nothing."""

    @abstractmethod
    def write(self, batch: WriteBatch) -> None:
        """Apply ``batch``: one bulk operation per collection, idempotent."""

    @abstractmethod
    def fetch_times(self, note_ids: Collection[str]) -> dict[str, str]:
        """For those of ``note_ids`` ever fetched: the time of the latest paid
        fetch (a detail, a 201 or a detail that gave no note). One query."""

    @abstractmethod
    def claim(self, note_ids: Collection[str], lease: Lease) -> set[str]:
        """Lease those of ``note_ids`` that need a paid call, atomically.

        Granted: notes not fetched since ``lease.fresh_since`` (when set),
        and under no live lease of another crawl; their lease becomes
        ``lease``. Several processes and machines may claim at once: each
        note is granted to one crawl at a time.
        """

    @abstractmethod
    def release(self, run_id: str) -> None:
        """End every lease of ``run_id``, detail and comment leases alike:
        another crawl may take the notes."""

    @abstractmethod
    def claim_comments(self, note_ids: Collection[str], lease: Lease) -> set[str]:
        """Lease those of ``note_ids`` whose comments a crawl may page, atomically.

        As :meth:`claim`, in ``comment_claims``: granted are notes under no
        live comment lease of another crawl and, when ``lease.fresh_since``
        is set, still needing comments with it as ``stale_before`` (see
        :meth:`comment_targets`): a note another crawl just paged is not
        granted again. :meth:`release` ends these leases too.
        """

    @abstractmethod
    def comment_targets(
        self, note_ids: Collection[str] | None, *, since: str | None, sources: Collection[str] | None,
        stale_before: str, limit: int | None,
    ) -> list[dict]:
        """The notes whose comments are needed, as ``{"note_id", "counter",
        "comments_fetched_at", "comments_counter"}`` (*counter*: the comment
        counter of the latest detail, or None).

        Among ``note_ids`` (in their order, stored or not), or else among the
        stored notes with status "ok" (last seen at or after ``since``, and
        seen under one of ``sources``, ``"kind:value"`` names, when given;
        never fetched first, then the longest ago): those whose comments were
        never fetched, were fetched before ``stale_before``, or whose counter
        grew since. At most ``limit``.
        """

    @abstractmethod
    def stored_comment_ids(self, note_id: str, comment_ids: Collection[str]) -> set[str]:
        """Those of ``comment_ids`` stored as comments of ``note_id``."""

    @abstractmethod
    def unfetched_note_ids(self, channels: Collection[str] | None, limit: int | None) -> list[str]:
        """Notes seen in a feed (of one of ``channels``, or any) and never
        fetched, oldest seen first."""

    @abstractmethod
    def unfetched_source_note_ids(self, sources: Collection[str] | None, limit: int | None) -> list[str]:
        """Notes seen under one of ``sources`` (``"kind:value"`` names, see
        :func:`source_name`; None: any) and never fetched, oldest seen first."""

    @abstractmethod
    def feed_pages(self, crawl_id: str) -> list[dict]:
        """The ``feed_pages`` records of ``crawl_id``, by channel and page."""

    @abstractmethod
    def source_pages(self, crawl_id: str) -> list[dict]:
        """The ``source_pages`` records of ``crawl_id``, by kind, value and page."""

    @abstractmethod
    def creator_fetch_times(self, user_ids: Collection[str]) -> dict[str, str]:
        """For those of ``user_ids`` with a stored profile: its ``fetched_at``."""

    @abstractmethod
    def share_links(self, urls: Collection[str]) -> dict[str, str]:
        """For those of ``urls`` resolved before: the URL each resolved to."""

    @abstractmethod
    def records(self, collection: str) -> list[dict]:
        """Every record of one of :data:`RECORD_ORDER`'s collections, in its order."""

    @abstractmethod
    def stale_note_ids(self, before: str, limit: int | None = None) -> list[str]:
        """Notes with status "ok" and a detail older than ``before``, oldest first."""

    @abstractmethod
    def has_notes(self) -> bool:
        """Whether any note's detail is stored (status "ok"): one indexed
        look-up that stops at the first, however large the store."""

    @abstractmethod
    def get_note(self, note_id: str) -> dict | None:
        """The note record (see the module docstring), or None."""

    @abstractmethod
    def iter_notes(self) -> Iterator[dict]:
        """Every note record, by note id."""

    @abstractmethod
    def count(self, collection: str) -> int:
        """The number of records in one of :data:`COLLECTIONS`."""

    @abstractmethod
    def find_runs(self) -> list[dict]:
        """Every run record, by ``started_at`` then ``run_id``."""

    def __enter__(self) -> NoteStore:
        self.open()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "%s(%r)" % (type(self).__name__, self.display_uri)


def check_collection(collection: str) -> None:
    if collection not in COLLECTIONS:
        raise ValueError(
            "unknown collection %r; expected one of %s" % (collection, ", ".join(COLLECTIONS))
        )


def check_records(collection: str) -> tuple[str, ...]:
    """The order of :meth:`NoteStore.records` of *collection*; ValueError if it reads none."""
    if collection not in RECORD_ORDER:
        raise ValueError(
            "records of %r cannot be listed; expected one of %s" % (collection, ", ".join(RECORD_ORDER))
        )
    return RECORD_ORDER[collection]


def run_sort_key(record: dict) -> tuple[str, str]:
    return (str(record.get("started_at") or ""), str(record["run_id"]))
