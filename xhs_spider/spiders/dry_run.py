"""``-a dry_run=true``: the most billed calls a run would make, from the store
and the arguments, without making one.

Every spider takes the argument (:class:`~xhs_spider.spiders.base.NoteDetailSpider`
reads it); :func:`predict` runs on the store's thread, reading only (no
lease is taken). What the store cannot know yet (the notes the pages will
show) is counted at its most: a page's notes at :data:`NOTES_PER_PAGE`, a
note's comment pages at one a comment (a page holds at least one). The
bound of each spider is in docs/usage.md (Dry run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from xhs_spider.api.normalize import now_iso
from xhs_spider.outcome.summary import ITEM_TYPES

if TYPE_CHECKING:
    from xhs_spider.store.base import NoteStore

#: The most notes one page of each list has shown (the vendor's pages hold
#: about 10 to 20): what a dry run counts for a page it cannot see yet.
NOTES_PER_PAGE = {"feed": 20, "search": 20, "user_notes": 30, "topic_notes": 20}


@dataclass(frozen=True)
class Times:
    """What is fresh: details and profiles fetched since *fresh_since* (None:
    nothing is), comments fetched since *comments_since*."""

    fresh_since: str | None
    comments_since: str

    @classmethod
    def of(cls, detail_ttl: int, comments_ttl: int) -> Times:
        now = now_iso()
        return cls(fresh_since=now_iso(ago=timedelta(seconds=detail_ttl)) if detail_ttl else None,
                   comments_since=now_iso(ago=timedelta(seconds=comments_ttl)) if comments_ttl else now)


@dataclass
class Prediction:
    """Billed calls at most, by item type (``feed pages``, ``note details``…)."""

    spider: str
    calls: dict[str, int] = field(default_factory=dict)
    budget: int = 0

    def add(self, endpoint: str, count: int) -> None:
        if count:
            kind = ITEM_TYPES.get(endpoint, endpoint)
            self.calls[kind] = self.calls.get(kind, 0) + count

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def at_most(self) -> int:
        """The total, or the budget (JUSTONEAPI_MAX_BILLED_CALLS) when lower."""
        return min(self.total, self.budget) if self.budget else self.total

    def line(self) -> str:
        parts = ", ".join(f"{kind} {count}" for kind, count in self.calls.items()) or "none"
        capped = (f"; the budget JUSTONEAPI_MAX_BILLED_CALLS={self.budget} caps it"
                  if self.budget and self.budget < self.total else "")
        return (f"Dry run of {self.spider}: at most {self.at_most} billed calls ({parts}){capped}. "
                "No call was made; run it without -a dry_run=true to crawl.")


def _comment_pages(spider: Any, prediction: Prediction, notes: int) -> None:
    """The most comment and reply pages the paging of *notes* notes pays for:
    a page per top-level comment, a reply page per reply, up to the caps."""
    prediction.add("comments", notes * spider.max_comments)
    prediction.add("sub_comments", notes * spider.max_comments * spider.max_replies)


def predict(spider: Any, store: NoteStore | None, times: Times, budget: int) -> Prediction:
    """The most billed calls *spider* (its arguments parsed, ``pages``
    resolved) would make, given what *store* holds (None: nothing known)."""
    prediction = Prediction(spider.name, budget=budget)
    if spider.name == "feed":
        _feed(spider, store, prediction)
    elif spider.name == "comments":
        _comments(spider, store, times, prediction)
    elif spider.name == "note":
        _note(spider, store, times, prediction)
    else:
        _discovery(spider, store, times, prediction)
    return prediction


def _details(spider: Any, prediction: Prediction, count: int) -> None:
    prediction.add("detail", count)
    _comment_pages(spider, prediction, count)


def _feed(spider: Any, store: NoteStore | None, prediction: Prediction) -> None:
    pages = len(spider.channels) * spider.pages
    prediction.add("feed", pages)
    if spider.details:
        unfetched = store.unfetched_note_ids(spider.channels, None) if store else []
        _details(spider, prediction, len(unfetched) + pages * NOTES_PER_PAGE["feed"])


def _discovery(spider: Any, store: NoteStore | None, times: Times, prediction: Prediction) -> None:
    links = list(getattr(spider, "share_links", ()))
    known = store.share_links(links) if store and links else {}
    prediction.add("share", len(links) - len(known))
    sources = list(spider.sources) + links  # a link may name one more creator
    if spider.name == "user":
        profiles = store.creator_fetch_times(spider.sources) if store else {}
        fresh = [user for user, at in profiles.items()
                 if times.fresh_since is not None and at >= times.fresh_since]
        prediction.add("user", len(sources) - len(fresh))
    pages = len(sources) * spider.pages
    prediction.add(spider.endpoint, pages)
    if spider.details:
        unfetched = store.unfetched_source_note_ids(spider.source_names(), None) if store else []
        _details(spider, prediction, len(unfetched) + pages * NOTES_PER_PAGE[spider.endpoint])


def _named_notes(spider: Any, store: NoteStore | None, prediction: Prediction) -> int:
    """Notes named by id or share link (a share call each one not resolved before)."""
    ids = spider.id_list.ids if spider.id_list is not None else spider.ids
    links = list(spider.share_links)
    known = store.share_links(links) if store and links else {}
    prediction.add("share", len(links) - len(known))
    return len(set(ids)) + len(links)


def _note(spider: Any, store: NoteStore | None, times: Times, prediction: Prediction) -> None:
    if spider.unfetched:
        count = len(store.unfetched_note_ids(None, None)) if store else 0
    elif spider.stale:
        before = times.fresh_since or now_iso()
        count = len(store.stale_note_ids(before, spider.limit)) if store else 0
    else:
        count = _named_notes(spider, store, prediction)
    _details(spider, prediction, count)


def _comments(spider: Any, store: NoteStore | None, times: Times, prediction: Prediction) -> None:
    if spider.stored:
        targets = len(store.comment_targets(
            None, since=spider.since, sources=spider.sources, stale_before=times.comments_since,
            limit=None)) if store else 0
    else:
        targets = _named_notes(spider, store, prediction)
    _comment_pages(spider, prediction, targets)

