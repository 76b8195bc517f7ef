"""A note record as the fold of every operation about it, in any order."""

from __future__ import annotations

from dataclasses import dataclass, field

from xhs_spider.store.batch import WriteBatch

#: The fields of a detail (NoteItem) kept at the top level of a note record.
DETAIL_FIELDS = (
    "url", "type", "title", "text", "hashtags", "images", "video", "author",
    "counts", "published_at", "updated_at", "request_id", "crawled_at", "endpoint",
)


#: The kind of source of a feed appearance (whose source value is its channel).
CHANNEL = "channel"


def appearance_source(item: dict) -> tuple[str, str]:
    """(source kind, source value) of an appearance: an AppearanceItem says
    them; a FeedAppearanceItem's source is its channel."""
    if "source_kind" in item:
        return item["source_kind"], item["source_value"]
    return CHANNEL, item["channel"]


def source_name(kind: str, value: str) -> str:
    """``"kind:value"``: how a note record's ``sources`` name a source."""
    return "%s:%s" % (kind, value)


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
    #: ``"kind:value"`` of every source it was seen under, channels included.
    sources: set[str] = field(default_factory=set)
    detail_fetched_at: str | None = None
    #: The newest detail's fields; None before any detail.
    detail: dict | None = None
    #: Only set while a 201 is newer than the newest detail.
    unavailable_at: str | None = None
    #: The newest detail call that gave no note, and why (a paid one, or the
    #: API refusing the note id: ``code_400``).
    failed_at: str | None = None
    failed_reason: str | None = None
    #: The newest complete comment paging: when it finished, the note's
    #: comment counter when it started, and the comments it stored.
    comments_fetched_at: str | None = None
    comments_counter: int | None = None
    comments_stored: int | None = None

    @classmethod
    def from_appearance(cls, item: dict) -> NoteState:
        at = item["crawled_at"]
        kind, value = appearance_source(item)
        channels = {value} if kind == CHANNEL else set()
        return cls(item["note_id"], at, at, channels=channels, sources={source_name(kind, value)})

    @classmethod
    def from_detail(cls, item: dict) -> NoteState:
        at = item["crawled_at"]
        detail = {name: item.get(name) for name in DETAIL_FIELDS}
        return cls(item["note_id"], at, at, detail_fetched_at=at, detail=detail)

    @classmethod
    def from_unavailable(cls, note_id: str, at: str) -> NoteState:
        return cls(note_id, at, at, unavailable_at=at)

    @classmethod
    def from_failed(cls, failure: dict) -> NoteState:
        at = failure["at"]
        return cls(failure["note_id"], at, at, failed_at=at, failed_reason=failure["reason"])

    @classmethod
    def from_comments_done(cls, done: dict) -> NoteState:
        at = done["at"]
        return cls(done["note_id"], at, at, comments_fetched_at=at, comments_counter=done.get("counter"),
                   comments_stored=done["comments"])

    @property
    def status(self) -> str:
        if self.unavailable_at is not None:
            return "unavailable"
        if self.detail_fetched_at is not None:
            return "ok"
        return "seen" if self.failed_at is None else "failed"

    def merge(self, other: NoteState) -> None:
        """Fold ``other`` (same note) into this state; on equal times, ``other`` wins."""
        self.first_seen_at = min(self.first_seen_at, other.first_seen_at)
        self.last_seen_at = max(self.last_seen_at, other.last_seen_at)
        self.channels |= other.channels
        self.sources |= other.sources
        fetched_at = other.detail_fetched_at
        if fetched_at is not None and not _earlier(fetched_at, self.detail_fetched_at):
            self.detail_fetched_at, self.detail = fetched_at, other.detail
        unavailable_at = _latest(self.unavailable_at, other.unavailable_at)
        if unavailable_at is not None and not _earlier(self.detail_fetched_at, unavailable_at):
            unavailable_at = None  # a detail at or after the 201: the note is back
        self.unavailable_at = unavailable_at
        if other.failed_at is not None and not _earlier(other.failed_at, self.failed_at):
            self.failed_at, self.failed_reason = other.failed_at, other.failed_reason
        if other.comments_fetched_at is not None and _earlier(self.comments_fetched_at, other.comments_fetched_at):
            # Of two pagings that finished at the same time, the first written stays.
            self.comments_fetched_at = other.comments_fetched_at
            self.comments_counter, self.comments_stored = other.comments_counter, other.comments_stored

    @property
    def fetched_at(self) -> str | None:
        """When the API was last paid for this note's detail, whatever it gave."""
        times = [self.detail_fetched_at, self.unavailable_at, self.failed_at]
        known = [at for at in times if at is not None]
        return max(known) if known else None

    def to_record(self) -> dict:
        """The record as ``get_note`` returns it."""
        record = {
            "note_id": self.note_id,
            "status": self.status,
            "first_seen_at": self.first_seen_at,
            "last_seen_at": self.last_seen_at,
            "detail_fetched_at": self.detail_fetched_at,
            "unavailable_at": self.unavailable_at,
            "failed_at": self.failed_at,
            "failed_reason": self.failed_reason,
            "channels": sorted(self.channels),
            "sources": sorted(self.sources),
            "comments_fetched_at": self.comments_fetched_at,
            "comments_counter": self.comments_counter,
            "comments_stored": self.comments_stored,
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
        *(NoteState.from_appearance(item) for item in batch.all_appearances()),
        *(NoteState.from_detail(item) for item in batch.notes),
        *(NoteState.from_unavailable(note_id, at) for note_id, at in batch.unavailable),
        *(NoteState.from_failed(failure) for failure in batch.failed),
        # A paging cut short says nothing about the note's comments being fetched.
        *(NoteState.from_comments_done(done) for done in batch.comments_done if done["complete"]),
    ]
    for change in changes:
        state = states.get(change.note_id)
        if state is None:
            states[change.note_id] = change
        else:
            state.merge(change)
    return states
