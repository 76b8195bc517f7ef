"""The note store's interface and data model, shared by its backends.

Four collections (SQLite tables, MongoDB collections) hold what the crawl saw:

``notes``
    One record per note id. Bookkeeping: ``note_id``; ``status`` ("seen":
    only in feeds so far, "ok": its detail is stored, "unavailable": the
    detail endpoint answered 201, no content); ``first_seen_at`` and
    ``last_seen_at`` (earliest and latest time any operation saw it);
    ``detail_fetched_at`` (null until a detail); ``unavailable_at`` (null
    unless the newest news about the note is a 201); ``channels`` (sorted
    channel oids it was seen in). When a detail exists, the newest detail's
    fields (:data:`DETAIL_FIELDS`) sit at the top level of the record.
``feed_appearances``
    One per (run_id, channel, page, position): the appearance item's fields
    plus ``run_id``.
``note_metrics``
    One counter snapshot per detail fetch, unique on (note_id, fetched_at).
``runs``
    One per crawl, keyed by ``run_id``; each write merges its fields into the
    record (later values replace earlier ones of the same name).

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
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from xhs_spider.store.batch import WriteBatch

#: The fields of a detail (NoteItem) kept at the top level of a note record.
DETAIL_FIELDS = (
    "url", "type", "title", "text", "hashtags", "images", "video", "author",
    "counts", "published_at", "updated_at", "request_id", "crawled_at",
)
#: The counters of a ``note_metrics`` snapshot, read from the detail's counts.
COUNTERS = ("likes", "collects", "comments", "shares", "reads", "impressions", "follows")
COLLECTIONS = ("notes", "feed_appearances", "note_metrics", "runs")
#: The key of a ``feed_appearances`` record.
APPEARANCE_KEY = ("run_id", "channel", "page", "position")


class StoreUnavailable(Exception):
    """The store cannot be reached (connection lost, server down, file locked).

    The caller may retry later, or spill the batch to disk and replay it.
    """


@dataclass
class NoteState:
    """A note record, built from operations; merging states is order-free.

    A note's state is the fold of every operation about it, so backends
    compute the same record whatever order and however often they see them.
    """

    note_id: str
    first_seen_at: str
    last_seen_at: str
    channels: set[str] = field(default_factory=set)
    detail_fetched_at: str | None = None
    #: The newest detail's fields; None before any detail.
    detail: dict | None = None
    #: Only set while a 201 is newer than the newest detail.
    unavailable_at: str | None = None

    @classmethod
    def from_appearance(cls, item: dict) -> NoteState:
        at = item["crawled_at"]
        return cls(item["note_id"], at, at, channels={item["channel"]})

    @classmethod
    def from_detail(cls, item: dict) -> NoteState:
        at = item["crawled_at"]
        detail = {name: item.get(name) for name in DETAIL_FIELDS}
        return cls(item["note_id"], at, at, detail_fetched_at=at, detail=detail)

    @classmethod
    def from_unavailable(cls, note_id: str, at: str) -> NoteState:
        return cls(note_id, at, at, unavailable_at=at)

    @property
    def status(self) -> str:
        if self.unavailable_at is not None:
            return "unavailable"
        return "ok" if self.detail_fetched_at is not None else "seen"

    def merge(self, other: NoteState) -> None:
        """Fold ``other`` (same note) into this state; on equal times, ``other`` wins."""
        self.first_seen_at = min(self.first_seen_at, other.first_seen_at)
        self.last_seen_at = max(self.last_seen_at, other.last_seen_at)
        self.channels |= other.channels
        fetched_at = other.detail_fetched_at
        if fetched_at is not None and not _earlier(fetched_at, self.detail_fetched_at):
            self.detail_fetched_at, self.detail = fetched_at, other.detail
        unavailable_at = _latest(self.unavailable_at, other.unavailable_at)
        if unavailable_at is not None and not _earlier(self.detail_fetched_at, unavailable_at):
            unavailable_at = None  # a detail at or after the 201: the note is back
        self.unavailable_at = unavailable_at

    def to_record(self) -> dict:
        """The record as ``get_note`` returns it."""
        record = {
            "note_id": self.note_id,
            "status": self.status,
            "first_seen_at": self.first_seen_at,
            "last_seen_at": self.last_seen_at,
            "detail_fetched_at": self.detail_fetched_at,
            "unavailable_at": self.unavailable_at,
            "channels": sorted(self.channels),
        }
        record.update(self.detail or {})
        return record


def _earlier(time: str | None, than: str | None) -> bool:
    """Whether ``time`` is before ``than``; never (None) is before any time."""
    if than is None:
        return False
    return time is None or time < than


def _latest(first: str | None, second: str | None) -> str | None:
    if first is None or second is None:
        return first if second is None else second
    return max(first, second)


def note_states(batch: WriteBatch) -> dict[str, NoteState]:
    """What ``batch`` says about each note it touches, by note id."""
    states: dict[str, NoteState] = {}
    changes = [
        *(NoteState.from_appearance(item) for item in batch.appearances),
        *(NoteState.from_detail(item) for item in batch.notes),
        *(NoteState.from_unavailable(note_id, at) for note_id, at in batch.unavailable),
    ]
    for change in changes:
        state = states.get(change.note_id)
        if state is None:
            states[change.note_id] = change
        else:
            state.merge(change)
    return states


def metric_snapshot(item: dict, run_id: str) -> dict:
    """The ``note_metrics`` record of one detail."""
    counts = item.get("counts") or {}
    snapshot = {"note_id": item["note_id"], "fetched_at": item["crawled_at"], "run_id": run_id}
    snapshot.update((name, counts.get(name)) for name in COUNTERS)
    return snapshot


def appearance_record(item: dict, run_id: str) -> dict:
    """The ``feed_appearances`` record of one appearance item."""
    return {**item, "run_id": run_id}


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
        """For those of ``note_ids`` ever fetched: the time of the latest
        fetch, a detail or a 201, whichever is newer. One query."""


    @abstractmethod
    def stale_note_ids(self, before: str, limit: int | None = None) -> list[str]:
        """Notes with status "ok" and a detail older than ``before``, oldest first."""

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


def run_sort_key(record: dict) -> tuple[str, str]:
    return (str(record.get("started_at") or ""), str(record["run_id"]))
