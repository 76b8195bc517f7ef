"""Deterministic discovery lists: creators' notes, keyword results, topic pages, share links.

Every list is derived from the seed and its own name (a keyword and its
filters, a topic id and its sort, a creator), so two sandboxes of one seed
serve the same lists. Every note id in them is one the note-detail endpoint
answers, and the detail agrees with the list: a creator's notes carry the
creator in their ids (see :func:`sandbox.data.encode_note_id`), so the
detail names that creator as the author; keyword and topic results are
drawn from creators' notes. A creator's list grows only on demand
(:meth:`DiscoveryUniverse.grow`), newest first.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from sandbox.data import (
    AUTHOR_POOL_SIZE,
    BASE64_CHARS,
    GROWTH_WINDOW,
    TOPICS,
    UNIVERSE_NOW,
    Author,
    FeedUniverse,
    build_author,
    decode_note_kind,
    encode_note_id,
    random_token,
    seeded_rng,
    stable_fraction,
)
from sandbox.queries import UnknownTarget

#: Notes per page: keyword search, a creator's list, a topic.
SEARCH_PAGE_SIZE = 20
USER_PAGE_SIZE = 10
TOPIC_PAGE_SIZE = 10
MOST_CREATOR_NOTES = 80
#: Share of creators with no note at all.
SILENT_CREATOR_SHARE = 0.05
#: Share of page boundaries where the last note of a page is served again
#: at the top of the next (as results shift while one pages through them).
DUPLICATE_SHARE = 0.4
#: Seconds between the notes a creator publishes while the sandbox runs.
GROWTH_STEP = 600
GROWTH_LIMIT = GROWTH_WINDOW // GROWTH_STEP
#: Share of share links that lead to a note (the rest to a profile).
SHARE_NOTE_SHARE = 0.7
TIME_WINDOWS = {"ALL": None, "ONE_DAY": 86400, "ONE_WEEK": 7 * 86400, "HALF_YEAR": 182 * 86400}
#: sortType → the counter it sorts by (descending); general keeps the drawn order.
SORT_COUNTERS = {
    "popularity_descending": "likes",
    "comment_descending": "comments",
    "collect_descending": "favourites",
}
NOTE_URL = "https://www.xiaohongshu.com/explore/%s?xsec_token=%s=&xsec_source=app_share"
PROFILE_URL = "https://www.xiaohongshu.com/user/profile/%s"


def cursor_text(*parts: object) -> str:
    """An opaque cursor: base64-like text that always holds ``+`` and ``/``."""
    body = random_token(seeded_rng(*parts), BASE64_CHARS, 28)
    return "%s+%s/%s==" % (body[:9], body[9:19], body[19:])


def topic_id_of(name: str) -> str:
    return hashlib.sha256(("topic:" + name).encode("utf-8")).hexdigest()[:24]


#: The topics with a name of their own: every hashtag of the feed's topics.
NAMED_TOPICS = {topic_id_of(tag): tag for topic in TOPICS for tag in topic.hashtags}


def in_pages(note_ids: list[str], size: int, duplicate_at: list[bool]) -> list[list[str]]:
    """*note_ids* cut into pages of *size*; page ``i`` starts with the last note
    of page ``i - 1`` again where ``duplicate_at[i]``."""
    pages = [note_ids[start:start + size] for start in range(0, len(note_ids), size)] or [[]]
    for index in range(1, len(pages)):
        if duplicate_at[index]:
            pages[index] = [pages[index - 1][-1], *pages[index]]
    return pages


class DiscoveryUniverse:
    """The creators, keyword results, topics and share links of one seed."""

    def __init__(self, feed: FeedUniverse) -> None:
        self.seed = feed.seed
        self.feed = feed
        #: Author index → notes published while the sandbox runs.
        self.growth: dict[int, int] = {}
        self.author = lru_cache(maxsize=AUTHOR_POOL_SIZE)(self._author)
        self.base_notes = lru_cache(maxsize=AUTHOR_POOL_SIZE)(self._base_notes)
        self._creators: dict[str, int] = {}

    def reset(self) -> None:
        self.growth.clear()

    def _author(self, index: int) -> Author:
        return build_author(self.seed, index)

    def creator(self, user_id: str) -> int:
        """The author index of *user_id*; :class:`UnknownTarget` if no creator has it."""
        if not self._creators:
            self._creators = {self.author(index).user_id: index for index in range(AUTHOR_POOL_SIZE)}
        if user_id not in self._creators:
            raise UnknownTarget("no creator %s" % user_id)
        return self._creators[user_id]

    def base_note_count(self, index: int) -> int:
        roll = stable_fraction(self.seed, "creator-notes", index)
        return 0 if roll < SILENT_CREATOR_SHARE else 1 + int(MOST_CREATOR_NOTES * roll**2)

    def _base_notes(self, index: int) -> tuple[str, ...]:
        """The notes creator *index* had published before the sandbox started, newest first."""
        rng = seeded_rng(self.seed, "creator", index)
        main_topic = rng.randrange(len(TOPICS))
        created = UNIVERSE_NOW - rng.randrange(3 * 86400)
        notes = []
        for _ in range(self.base_note_count(index)):
            topic = main_topic if rng.random() < 0.7 else rng.randrange(len(TOPICS))
            notes.append(encode_note_id(created, topic, rng.random() < 0.25, rng, author_index=index))
            created -= rng.randrange(6 * 3600, 6 * 86400)
        return tuple(notes)

    def grown_note_id(self, index: int, number: int) -> str:
        """The *number*-th note (from 1) creator *index* publishes while the sandbox runs."""
        rng = seeded_rng(self.seed, "grown", index, number)
        created = UNIVERSE_NOW + number * GROWTH_STEP
        return encode_note_id(created, rng.randrange(len(TOPICS)), rng.random() < 0.25, rng, author_index=index)

    def creator_notes(self, index: int) -> list[str]:
        """Creator *index*'s notes now, newest first."""
        grown = [self.grown_note_id(index, number) for number in range(self.growth.get(index, 0), 0, -1)]
        return grown + list(self.base_notes(index))

    def grow(self, index: int, count: int) -> list[str]:
        """Publishes *count* new notes of creator *index*; returns them, newest first."""
        before = self.growth.get(index, 0)
        if count < 1 or before + count > GROWTH_LIMIT:
            raise ValueError("a creator publishes 1 to %d notes in all; asked %d more after %d"
                             % (GROWTH_LIMIT, count, before))
        self.growth[index] = before + count
        return self.creator_notes(index)[:count]

    def note_cursor(self, index: int, note_id: str) -> str:
        """The cursor a creator's list gives *note_id*: send it as ``lastCursor`` for what follows."""
        return cursor_text(self.seed, "note-cursor", index, note_id)

    def drawn_notes(self, name: str, count_range: tuple[int, int]) -> list[str]:
        """Notes drawn from creators' lists for the list *name*, recent ones more often."""
        rng = seeded_rng(self.seed, "drawn", name)
        drawn: dict[str, None] = {}
        for _ in range(rng.randint(*count_range)):
            notes = self.base_notes(rng.randrange(AUTHOR_POOL_SIZE))
            if notes:
                drawn[notes[int(len(notes) * rng.random() ** 3)]] = None
        return list(drawn)

    def sorted_notes(self, note_ids: list[str], counter: str | None) -> list[str]:
        """*note_ids* by *counter* descending, or newest first (counter None)."""
        if counter is None:
            return sorted(note_ids, key=lambda note_id: int(note_id[:8], 16), reverse=True)
        return sorted(note_ids, key=lambda note_id: getattr(self.feed.note(note_id).counters, counter), reverse=True)

    def duplicates(self, name: str, pages: int) -> list[bool]:
        return [stable_fraction(self.seed, "duplicate", name, page) < DUPLICATE_SHARE for page in range(pages)]

    def keyword_pages(self, keyword: str, sort: str, note_type: str, time_filter: str) -> list[list[str]]:
        """The note ids of each page of a keyword search, duplicates included."""
        notes = self.drawn_notes("keyword:" + keyword, (5, 100))
        window = TIME_WINDOWS[time_filter]
        if window is not None:
            notes = [note_id for note_id in notes if int(note_id[:8], 16) >= UNIVERSE_NOW - window]
        if note_type != "ALL":
            notes = [note_id for note_id in notes if decode_note_kind(note_id)[1] == (note_type == "VIDEO_NOTE")]
        if sort != "general":
            notes = self.sorted_notes(notes, SORT_COUNTERS.get(sort))
        name = "|".join(("keyword", keyword, sort, note_type, time_filter))
        return in_pages(notes, SEARCH_PAGE_SIZE, self.duplicates(name, len(notes)))

    def topic_pages(self, topic_id: str, sort: str) -> list[list[str]]:
        """The note ids of each page of a topic, hottest or newest first, duplicates included."""
        notes = self.sorted_notes(self.drawn_notes("topic:" + topic_id, (15, 90)), "likes" if sort == "hot" else None)
        return in_pages(notes, TOPIC_PAGE_SIZE, self.duplicates("topic|%s|%s" % (topic_id, sort), len(notes)))

    def topic_cursors(self, topic_id: str, sort: str, pages: int) -> list[str]:
        """The cursor each page of a topic gives for the next one ("" on the last page)."""
        return [cursor_text(self.seed, "topic-cursor", topic_id, sort, page) for page in range(1, pages)] + [""]

    def topic_name(self, topic_id: str) -> str:
        if topic_id in NAMED_TOPICS:
            return NAMED_TOPICS[topic_id]
        names = sorted(set(NAMED_TOPICS.values()))
        return names[int(stable_fraction(self.seed, "topic-name", topic_id) * len(names))]

    def share_target(self, share_url: str) -> tuple[str, str, str]:
        """Where a short link leads: ("note", note id, URL) or ("user", user id, URL)."""
        code = share_url.rsplit("/", 1)[-1]
        rng = seeded_rng(self.seed, "share", code)
        index = rng.randrange(AUTHOR_POOL_SIZE)
        notes = self.base_notes(index)
        if notes and rng.random() < SHARE_NOTE_SHARE:
            note = self.feed.note(notes[rng.randrange(len(notes))])
            return "note", note.note_id, NOTE_URL % (note.note_id, note.xsec_token)
        user_id = self.author(index).user_id
        return "user", user_id, PROFILE_URL % user_id
