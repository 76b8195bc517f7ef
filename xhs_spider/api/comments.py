"""Comment answers (a note's comments, a comment's replies): the comments on
a page and the cursor of the next (when to stop: ``paging.py``, through
:func:`trail_page`).

The vendor publishes no schema for these answers' ``data`` either; the
reading is as tolerant of shape as :mod:`xhs_spider.api.discovery`'s, and
shares its helpers:

* the page's entries are a list: ``data`` itself, or a list under ``data``
  or one level below (``data.comments``, ``data.data.comments``); the list
  holding the most comments wins;
* an entry is the app's comment object in snake_case (``like_count``,
  ``user_info.user_id``, ``sub_comments``) or camelCase (``likeCount``,
  ``userInfo.userId``, ``subComments``); an entry that is no object, or has
  no id, is skipped (:data:`SKIP_REASONS`);
* a top-level comment's first replies come inline (``sub_comments``): they
  are read as comments of level 2 under it, with the cursor and the flag
  that say whether a reply page has more (``sub_comment_cursor``,
  ``sub_comment_has_more``);
* cursors are opaque text, never changed.

Nothing here raises on odd values: a field that cannot be read is ``None``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xhs_spider.api.discovery import (
    CURSOR_KEYS,
    HAS_MORE_KEYS,
    DiscoveryPage,
    FoundNote,
    _cursor,
    _dict,
    _entry_lists,
    _first,
    _flag,
    _paging_places,
    _string,
)
from xhs_spider.api.normalize import (
    _checked,
    clean_text,
    counter_text,
    note_id_of,
    parse_counter,
    utc_iso,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

TOP_LEVEL = 1
REPLY = 2
ID_KEYS = ("id", "comment_id", "commentId")
LIKES_KEYS = ("like_count", "likeCount", "liked_count", "likes")
TIME_KEYS = ("create_time", "createTime", "time")
AUTHOR_KEYS = ("user_info", "userInfo", "user")
REPLY_COUNT_KEYS = ("sub_comment_count", "subCommentCount")
REPLIES_KEYS = ("sub_comments", "subComments")
REPLY_CURSOR_KEYS = ("sub_comment_cursor", "subCommentCursor")
REPLY_MORE_KEYS = ("sub_comment_has_more", "subCommentHasMore")
#: Why an entry of a page is not a comment (a fixed vocabulary: stats keys).
SKIP_REASONS = ("no_id", "malformed")


@dataclass(frozen=True)
class FoundComment:
    """One comment or reply. *level*: 1 for a comment on the note, 2 for a
    reply (*parent_id*: the comment it sits under). *likes_text*: the API's
    text of the counter when it is no plain integer ("1.2万"). *replies*: the
    replies shown inline under a top-level comment; *reply_cursor* and
    *replies_more* (``None`` when not said): where its reply pages go on.
    *rejected*: fields given a value that could not be used."""

    comment_id: str
    note_id: str | None
    parent_id: str | None
    level: int
    author_id: str | None
    author_nickname: str | None
    content: str
    likes: int | None
    likes_text: str | None
    created_at: str | None
    ip_location: str | None
    reply_count: int | None
    raw: dict[str, Any]
    replies: tuple[FoundComment, ...] = ()
    reply_cursor: str | None = None
    replies_more: bool | None = None
    rejected: tuple[str, ...] = ()

    @property
    def replies_complete(self) -> bool:
        """Whether the inline replies are all there are: no reply page to ask."""
        if self.replies_more is False:
            return True
        return self.reply_count is not None and len(self.replies) >= self.reply_count


@dataclass(frozen=True)
class CommentPage:
    """What a comment (or reply) answer's ``data`` says. *cursor*: the next
    page's, as the API wrote it, or ``None``; *has_more*: ``None`` when not
    said; *readable*: whether anything recognisable was found; *skipped*:
    entries that are no comment, by reason (:data:`SKIP_REASONS`), inline
    replies included."""

    comments: tuple[FoundComment, ...] = ()
    cursor: str | None = None
    has_more: bool | None = None
    readable: bool = False
    skipped: Mapping[str, int] = field(default_factory=dict)

    def every_comment(self) -> list[FoundComment]:
        """The page's comments and their inline replies, each once, in page order."""
        seen: dict[str, FoundComment] = {}
        for comment in self.comments:
            for found in (comment, *comment.replies):
                seen.setdefault(found.comment_id, found)
        return list(seen.values())


def read_comment_page(data: object, note_id: str | None = None) -> CommentPage:
    """The comments (level 1, their inline replies level 2) and paging of a
    comment answer's ``data``; *note_id*: the note asked about, for comments
    that do not name it."""
    return _read_page(data, note_id, None)


def read_reply_page(data: object, note_id: str | None, parent_id: str) -> CommentPage:
    """The replies (level 2, under *parent_id*) and paging of a reply answer's ``data``."""
    return _read_page(data, note_id, parent_id)


def _read_page(data: object, note_id: str | None, parent_id: str | None) -> CommentPage:
    best: tuple[list[FoundComment], Counter[str], dict[str, Any] | None] | None = None
    for entries, holder, _known in _entry_lists(data):
        comments, skipped = read_entries(entries, note_id, parent_id)
        if best is None or len(comments) > len(best[0]):
            best = comments, skipped, holder
    comments, skipped, holder = best or ([], Counter(), None)
    places = _paging_places(data, holder)
    cursor = _first(places, CURSOR_KEYS, _cursor)
    has_more = _first(places, HAS_MORE_KEYS, _flag)
    recognised = bool(comments) or (holder is not None and any(
        isinstance(holder.get(key), list) for key in ("comments", "list", "items")))
    return CommentPage(
        comments=tuple(comments), cursor=cursor, has_more=has_more,
        readable=recognised or cursor is not None or has_more is not None, skipped=dict(skipped),
    )


def read_entries(entries: list[Any], note_id: str | None,
                 parent_id: str | None) -> tuple[list[FoundComment], Counter[str]]:
    """The comments among *entries* (replies under *parent_id* when it is
    set), and the entries skipped by reason, inline replies' included."""
    comments: list[FoundComment] = []
    skipped: Counter[str] = Counter()
    for entry in entries:
        found = read_comment(entry, note_id=note_id, parent_id=parent_id, skipped=skipped)
        if isinstance(found, FoundComment):
            comments.append(found)
        else:
            skipped[found] += 1
    return comments, skipped


def read_comment(entry: object, *, note_id: str | None = None, parent_id: str | None = None,
                 skipped: Counter[str] | None = None) -> FoundComment | str:
    """The comment of one entry, or why it is none (:data:`SKIP_REASONS`).
    With *parent_id*, a reply under it; else a top-level comment, with its
    inline replies (those skipped counted in *skipped*)."""
    if not isinstance(entry, dict):
        return "malformed"
    # An id as text (white space around it dropped) or as a whole number.
    comment_id = (_first([entry], ID_KEYS, _cursor) or "").strip()
    if not comment_id:
        return "no_id"
    comment_id = clean_text(comment_id)
    rejected: list[str] = []
    likes_raw = _first([entry], LIKES_KEYS, _given)
    likes = _checked(likes_raw, parse_counter(likes_raw), "likes", rejected)
    likes_text = counter_text(likes_raw)
    created_raw = _first([entry], TIME_KEYS, _given)
    count_raw = _first([entry], REPLY_COUNT_KEYS, _given)
    author = _first([entry], AUTHOR_KEYS, _dict) or {}
    own_note = _first([entry], ("note_id", "noteId"), note_id_of) or note_id
    replies: list[FoundComment] = []
    if parent_id is None:
        inline = _first([entry], REPLIES_KEYS, _list) or []
        replies, inline_skipped = read_entries(inline, own_note, comment_id)
        if skipped is not None:
            skipped.update(inline_skipped)
    return FoundComment(
        comment_id=comment_id, note_id=own_note, parent_id=parent_id,
        level=TOP_LEVEL if parent_id is None else REPLY,
        author_id=_first([author], ("user_id", "userId", "userid", "id"), _string),
        author_nickname=_first([author], ("nickname", "nickName", "nick_name", "name"), _string),
        content=_first([entry], ("content", "text"), _string) or "",
        likes=likes, likes_text=None if likes_text is None else clean_text(likes_text),
        created_at=_checked(created_raw, utc_iso(created_raw), "created_at", rejected),
        ip_location=_first([entry], ("ip_location", "ipLocation"), _string),
        reply_count=_checked(count_raw, parse_counter(count_raw), "reply_count", rejected),
        raw=entry, replies=tuple(replies),
        reply_cursor=_first([entry], REPLY_CURSOR_KEYS, _cursor),
        replies_more=_first([entry], REPLY_MORE_KEYS, _flag),
        rejected=tuple(rejected),
    )


def trail_page(page: CommentPage) -> DiscoveryPage:
    """*page* as :class:`~xhs_spider.api.paging.PageTrail` follows it: its
    comments as the entries (by comment id), its paging as it is. The trail's
    rules then hold for comments too: no cursor twice, a page that repeats
    the one before ends the paging."""
    entries = tuple(
        FoundNote(note_id=comment.comment_id, rank=rank, position=rank, title="", type=None,
                  likes=comment.likes, likes_text=comment.likes_text, author_id=comment.author_id,
                  author_nickname=comment.author_nickname, raw=comment.raw)
        for rank, comment in enumerate(page.comments, start=1)
    )
    return DiscoveryPage(notes=entries, cursor=page.cursor, has_more=page.has_more,
                         readable=page.readable, skipped=page.skipped)


def _given(value: object) -> object:
    return value


def _list(value: object) -> list[Any] | None:
    return value if isinstance(value, list) else None

