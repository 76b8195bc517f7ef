"""Deterministic comment threads: each note's comments and the replies to them.

A note's thread follows from the seed and the note id alone. Its size is the
note detail's comment counter (``cmtNum``, which counts replies too, as the
app's does), up to :data:`THREAD_CAP`: a note that says more holds that many,
the rest hidden (the app hides folded and deleted comments the same way).
Comments published while the sandbox runs (:meth:`CommentUniverse.grow`)
come on top and raise the detail's counter by as many.

Replies sit flat under their top-level comment, oldest first (a reply to a
reply names it in ``target_comment``); top-level comments come in three
orders: ``latest`` (newest first), ``like_count`` (most liked first) and
``normal`` (the app's "hot" order: likes and replies together).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sandbox.data import (
    AUTHOR_POOL_SIZE,
    CITIES,
    EMOJIS,
    FEELINGS,
    LOCATIONS,
    UNIVERSE_NOW,
    Author,
    FeedUniverse,
    build_author,
    seeded_rng,
)
from sandbox.discovery_data import cursor_text

#: The most comments and replies a note's thread holds (before growth).
THREAD_CAP = 400
#: Comments a note may gain while the sandbox runs, in all.
GROWTH_CAP = 1000
#: Seconds between comments published while the sandbox runs.
GROWTH_STEP = 60
#: Replies shown inline under a comment: this many, or one fewer for some comments.
MOST_INLINE = 3
COMMENT_TEXTS = (
    "太{feeling}了吧{emoji}", "求链接!", "蹲一个后续{emoji}", "已收藏,谢谢分享", "{city}的姐妹有吗?",
    "[笑哭R]", "哈哈哈哈哈哈", "这个在哪里买的呀?", "同款!{emoji}", "学到了👍", "博主好会拍{emoji}",
    "真的假的,我也想试试", "第一次刷到这么{feeling}的", "码住了{emoji}", "请问多少钱呀",
)
REPLY_TEXTS = ("谢谢!{emoji}", "同问", "在主页链接里~", "是的呀", "哈哈哈哈", "+1", "{city}有的!", "私信你啦")


@dataclass(frozen=True)
class Comment:
    """One comment or reply. *parent_id*: the top-level comment a reply sits
    under (``None`` for a top-level one); *target_id*: the reply it answers."""

    comment_id: str
    note_id: str
    parent_id: str | None
    created_ms: int
    likes: int
    likes_as_text: bool
    author_index: int
    content: str
    ip_location: str
    target_id: str | None = None
    #: How many of its replies a top-level comment shows inline.
    inline: int = 0


@dataclass(frozen=True)
class Thread:
    """A note's comments as first published: top-level ones oldest first, and the replies under each."""

    top: tuple[Comment, ...]
    replies: dict[str, tuple[Comment, ...]]


def comment_id(created_ms: int, bits: int) -> str:
    """A comment id like the app's: its time, then 64 drawn bits, 24 hex digits in all."""
    return "%08x%016x" % (created_ms // 1000, bits)


def comment_text(templates: tuple[str, ...], rng_value: float, seed: object) -> str:
    rng = seeded_rng("comment-text", seed)
    return templates[int(rng_value * len(templates))].format(
        feeling=rng.choice(FEELINGS), emoji=rng.choice(EMOJIS), city=rng.choice(CITIES))


class CommentUniverse:
    """Every note's thread for one seed, and the comments published since the start."""

    def __init__(self, feed: FeedUniverse) -> None:
        self.seed = feed.seed
        self.feed = feed
        #: Note id → comments published while the sandbox runs.
        self.growth: dict[str, int] = {}
        self.thread = lru_cache(maxsize=1024)(self._thread)
        self.author = lru_cache(maxsize=AUTHOR_POOL_SIZE)(self._author)
        self.cursor = lru_cache(maxsize=65536)(self._cursor)

    def reset(self) -> None:
        self.growth.clear()

    def _author(self, index: int) -> Author:
        return build_author(self.seed, index)

    def counter(self, note_id: str) -> int:
        """The note detail's comment counter: its own, plus the comments published since."""
        return self.feed.note(note_id).counters.comments + self.growth.get(note_id, 0)

    def horizon(self, note_id: str) -> int:
        """The latest moment (epoch seconds) of the note's first comments; grown ones come after."""
        return max(UNIVERSE_NOW, self.feed.note(note_id).created_ts + 86400)

    def _thread(self, note_id: str) -> Thread:
        rng = seeded_rng(self.seed, "thread", note_id)
        start, end = self.feed.note(note_id).created_ts, self.horizon(note_id)
        left = min(self.feed.note(note_id).counters.comments, THREAD_CAP)
        top: list[Comment] = []
        replies: dict[str, tuple[Comment, ...]] = {}
        while left > 0:
            created = rng.randrange(start + 60, end) * 1000 + rng.randrange(1000)
            drawn = 0 if rng.random() < 0.7 else int(rng.random() ** 3 * 30) + 1
            count = min(drawn, left - 1)
            comment = self._comment(note_id, None, created, rng.getrandbits(64),
                                    inline=min(count, MOST_INLINE - (rng.random() < 0.3)))
            top.append(comment)
            replies[comment.comment_id] = self._replies(note_id, comment, count, end)
            left -= 1 + count
        top.sort(key=lambda comment: comment.created_ms)
        return Thread(tuple(top), replies)

    def _replies(self, note_id: str, parent: Comment, count: int, end: int) -> tuple[Comment, ...]:
        rng = seeded_rng(self.seed, "replies", parent.comment_id)
        times = sorted(rng.randrange(parent.created_ms + 1000, end * 1000 + 1000) for _ in range(count))
        replies: list[Comment] = []
        for created in times:
            target = replies[rng.randrange(len(replies))].comment_id if replies and rng.random() < 0.3 else None
            replies.append(self._comment(note_id, parent.comment_id, created, rng.getrandbits(64), target=target))
        return tuple(replies)

    def _comment(self, note_id: str, parent_id: str | None, created_ms: int, bits: int,
                 inline: int = 0, target: str | None = None) -> Comment:
        rng = seeded_rng(self.seed, "comment", note_id, bits)
        likes = int(10 ** rng.uniform(0, 4.6 if parent_id is None else 2.5)) - 1
        return Comment(
            comment_id=comment_id(created_ms, bits), note_id=note_id, parent_id=parent_id,
            created_ms=created_ms, likes=likes, likes_as_text=rng.random() < 0.25,
            author_index=rng.randrange(AUTHOR_POOL_SIZE),
            content=comment_text(REPLY_TEXTS if parent_id else COMMENT_TEXTS, rng.random(), bits),
            ip_location=rng.choice(LOCATIONS), target_id=target, inline=inline,
        )

    def grown_comment(self, note_id: str, number: int) -> Comment:
        """The *number*-th comment (from 1) published on *note_id* while the sandbox runs."""
        rng = seeded_rng(self.seed, "grown-comment", note_id, number)
        created = (self.horizon(note_id) + number * GROWTH_STEP) * 1000 + rng.randrange(1000)
        return self._comment(note_id, None, created, rng.getrandbits(64))

    def top_level(self, note_id: str, sort: str) -> list[Comment]:
        """The note's top-level comments now, in *sort* order."""
        grown = [self.grown_comment(note_id, number) for number in range(1, self.growth.get(note_id, 0) + 1)]
        comments = list(self.thread(note_id).top) + grown
        if sort == "like_count":
            return sorted(comments, key=lambda comment: (-comment.likes, -comment.created_ms))
        if sort == "normal":
            return sorted(comments, key=lambda comment: (-(comment.likes + 5 * len(self.replies(comment))),
                                                         comment.comment_id))
        return sorted(comments, key=lambda comment: -comment.created_ms)

    def replies(self, comment: Comment) -> tuple[Comment, ...]:
        return self.thread(comment.note_id).replies.get(comment.comment_id, ())

    def find(self, note_id: str, comment_id: str) -> Comment | None:
        """The top-level comment *comment_id* of *note_id*, if it has one."""
        return next((comment for comment in self.top_level(note_id, "latest") if comment.comment_id == comment_id),
                    None)

    def grow(self, note_id: str, count: int) -> list[Comment]:
        """Publishes *count* comments on *note_id*; returns them, newest first."""
        before = self.growth.get(note_id, 0)
        if count < 1 or before + count > GROWTH_CAP:
            raise ValueError("a note gains 1 to %d comments in all; asked %d more after %d"
                             % (GROWTH_CAP, count, before))
        self.growth[note_id] = before + count
        return [self.grown_comment(note_id, number) for number in range(before + count, before, -1)]

    def _cursor(self, comment: Comment, sort: str) -> str:
        """The cursor a page ending with *comment* gives: opaque, with ``+`` and ``/``."""
        if comment.parent_id is not None:
            return cursor_text(self.seed, "reply-cursor", comment.note_id, comment.comment_id)
        return cursor_text(self.seed, "comment-cursor", comment.note_id, sort, comment.comment_id)
