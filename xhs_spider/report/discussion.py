"""The report's comment figures: the most-discussed notes and comments per day.

Most discussed, two ways: by the comments the store holds for a note
(replies included; every comment it holds, for the notes whose comments it
got in the window), and by the comment counter of the note's latest detail
(the notes seen in the window), the largest first, ties to the smaller note
id. Comments per day: the comments written (``created_at``) in the window,
per UTC day. With ``--source``, only the notes found under those sources
count. A store without comments gives empty figures, and the page says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from xhs_spider.dataset.query import Query
from xhs_spider.dataset.readers import Dataset

#: Notes in each most-discussed ranking.
TOP = 10


@dataclass(frozen=True)
class DiscussedNote:
    note_id: str
    title: str
    #: The comments (and replies) the store holds for the note.
    stored: int
    #: The comment counter of the note's latest detail; None when unknown.
    counter: int | None


@dataclass
class Discussion:
    by_stored: list[DiscussedNote] = field(default_factory=list)
    by_counter: list[DiscussedNote] = field(default_factory=list)
    #: Comments written per day (YYYY-MM-DD) in the window.
    per_day: dict[str, int] = field(default_factory=dict)
    #: Every comment the store holds for the notes of the sources.
    comments: int = 0


def discussion(dataset: Dataset, since: str,
               sources: frozenset[tuple[str, str]] | None = None) -> Discussion:
    """The comment figures of the window from *since*, of *sources* (None: every note)."""
    stored: Counter[str] = Counter()
    fetched_in_window: set[str] = set()
    per_day: Counter[str] = Counter()
    for comment in dataset.records(Query("comments", sources=sources)):
        note_id = comment["note_id"]
        stored[note_id] += 1
        if str(comment.get("fetched_at") or "") >= since:
            fetched_in_window.add(note_id)
        created = comment.get("created_at")
        if created and created >= since:
            per_day[created[:10]] += 1
    titles: dict[str, str] = {}
    counters: dict[str, int | None] = {}
    seen: set[str] = set()
    for note in dataset.records(Query("notes", sources=sources)):
        note_id = note["note_id"]
        if note_id in stored or str(note.get("last_seen_at") or "") >= since:
            titles[note_id] = note.get("title") or ""
            counters[note_id] = _counter(note)
            if str(note.get("last_seen_at") or "") >= since:
                seen.add(note_id)

    def ranked(note_id: str) -> DiscussedNote:
        return DiscussedNote(note_id, titles.get(note_id, ""), stored.get(note_id, 0),
                             counters.get(note_id))

    by_stored = sorted(fetched_in_window, key=lambda note_id: (-stored[note_id], note_id))[:TOP]
    counted = [note_id for note_id in seen if counters.get(note_id)]
    by_counter = sorted(counted, key=lambda note_id: (-(counters[note_id] or 0), note_id))[:TOP]
    return Discussion(
        by_stored=[ranked(note_id) for note_id in by_stored],
        by_counter=[ranked(note_id) for note_id in by_counter],
        per_day=dict(sorted(per_day.items())),
        comments=sum(stored.values()),
    )


def _counter(note: dict) -> int | None:
    comments = (note.get("counts") or {}).get("comments")
    return comments if isinstance(comments, int) and not isinstance(comments, bool) else None
