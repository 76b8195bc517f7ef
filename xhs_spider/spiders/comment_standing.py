"""Where comment pagings stand across the runs of a crawl: where an earlier
run left them (:func:`where_pagings_stand`), and when a note is done
(:class:`NoteEndings`).

Where an earlier run of a crawl left its comment pagings is read from the
``source_pages`` records of the crawl (a resumed ``JOBDIR`` or
``XHS_CRAWL_ID`` crawl carries each one on from there).

Two kinds of record: ``comments`` (value: the note id), one per page of a
note's comments read; ``replies`` (value: ``<note id>/<comment id>``), one
per page of a comment's replies read, and a page ``0`` written when the
page of comments that revealed the comment is recorded: the comment has
replies to page, from its reply cursor on (``next_cursor``), after the
inline ones taken (``notes``; ``inline``: the ids of all its inline
replies, which reply pages may repeat; ``sort``: the note's order, for the
items). Each page is recorded after the request of the next one is queued,
so the last page recorded says where the paging goes on; a page in flight
at a kill is asked again.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, NamedTuple

from xhs_spider.api.paging import STOP_NO_MORE

if TYPE_CHECKING:
    from collections.abc import Iterable

    from xhs_spider.extensions.freshness import Freshness

#: The ``source_pages`` kind of a note's comment pages.
PAGES_KIND = "comments"
#: The ``source_pages`` kind of a comment's reply pages (and of page 0: replies to page).
REPLIES_KIND = "replies"


class Standing(NamedTuple):
    """Where a paging stood: its next page, that page's cursor, the comments
    taken so far, and why it stopped (``None``: it goes on)."""

    page: int = 1
    cursor: str | None = None
    taken: int = 0
    stop: str | None = None
    #: A reply paging's: the ids of its comment's inline replies, comma-separated.
    inline: str = ""
    #: A reply paging's: the order its note was paged in.
    sort: str | None = None


#: By note id, where each note's comment paging stood; by note id and comment
#: id, where each comment's reply paging stood.
NotesStanding = dict[str, Standing]
RepliesStanding = dict[str, dict[str, Standing]]


def replies_value(note_id: str, comment_id: str) -> str:
    """The ``source_value`` of a comment's reply pages."""
    return f"{note_id}/{comment_id}"


def where_pagings_stand(records: Iterable[dict[str, Any]]) -> tuple[NotesStanding, RepliesStanding]:
    """Where the comment pagings of *records* (``source_pages`` records of one
    crawl) stood at their last page recorded."""
    pages: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        if record["source_kind"] in (PAGES_KIND, REPLIES_KIND):
            pages.setdefault((record["source_kind"], record["source_value"]), []).append(record)
    notes: NotesStanding = {}
    replies: RepliesStanding = {}
    for (kind, value), read in pages.items():
        standing = _standing(read)
        if kind == PAGES_KIND:
            notes[value] = standing
        else:
            note_id, _, comment_id = value.partition("/")
            replies.setdefault(note_id, {})[comment_id] = standing
    return notes, replies


def _standing(read: list[dict[str, Any]]) -> Standing:
    first = min(read, key=lambda record: record["page"])
    last = max(read, key=lambda record: record["page"])
    return Standing(
        page=last["page"] + 1, cursor=last.get("next_cursor"),
        taken=sum(record.get("notes") or 0 for record in read),
        stop=None if last["next"] else last.get("stop") or STOP_NO_MORE,
        inline=",".join(first.get("inline") or ()), sort=first.get("sort"),
    )


class NoteEndings:
    """When a note's comments are done: ``comments_done`` is recorded once
    the note's own pages and the reply pagings under it (those this process
    started or resumed) have all ended; complete unless one was cut off (then
    the next run pages it again in full; a crawl stopped before leaves it
    unrecorded, the same). A reply paging left by an earlier run of the
    crawl is resumed before its note is ended, so the note waits for it.

    *wait_for_replies*: false in a shared crawl, whose workers each take
    any page: there the note is done when its own pages end.
    """

    def __init__(self, freshness: Freshness | None, *, wait_for_replies: bool) -> None:
        self.freshness = freshness
        self.wait_for_replies = wait_for_replies
        #: Reply pagings still going, by note; notes with one cut off; notes
        #: whose own pages ended, with (counter, comments taken, complete).
        self.open: Counter[str] = Counter()
        self.cut: set[str] = set()
        self.ending: dict[str, tuple[int | None, int, bool]] = {}

    def replies_started(self, note_id: str) -> None:
        self.open[note_id] += 1

    def note_ended(self, note_id: str, counter: int | None, taken: int, complete: bool) -> None:
        self.ending[note_id] = (counter, taken, complete)
        self._record_when_done(note_id)

    def replies_ended(self, note_id: str, complete: bool) -> None:
        if self.open[note_id] <= 0:
            return  # queued by another worker of a shared crawl: its note is not waiting here
        self.open[note_id] -= 1
        if not complete:
            self.cut.add(note_id)
        self._record_when_done(note_id)

    def _record_when_done(self, note_id: str) -> None:
        if self.wait_for_replies and self.open[note_id] > 0:
            return
        ending = self.ending.pop(note_id, None)
        if ending is None:
            return
        counter, taken, complete = ending
        complete = complete and note_id not in self.cut
        self.cut.discard(note_id)
        self.open.pop(note_id, None)
        if self.freshness is not None:
            self.freshness.record_comments_done(note_id, counter, taken, complete)
