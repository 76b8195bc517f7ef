"""What the comment endpoints answer, and the free ground truth behind them.

:class:`CommentService` turns a checked call (:mod:`sandbox.comment_params`)
into its ``data``: a page of a note's comments (10 a page) or of the replies
to one comment (10 a page, oldest first), in the shape the configuration
asks for (``comment_shape``; ``mixed`` draws one per endpoint and page from
the seed), with the cursor that stops advancing when ``comment_stuck_page``
says so. A cursor belongs to the comment that ends a page, so it still leads
on after the note gained comments. Each comment shows its first replies
inline; its ``sub_comment_cursor`` leads to the replies after the
second-to-last inline one, so the first reply page repeats the last inline
reply (a reply page asked without a cursor repeats them all).

It raises :class:`InvalidParameters` for a cursor the note never gave and
:class:`UnknownTarget` for a comment id the note does not have.
:meth:`CommentService.truth` answers ``GET /__sandbox__/comments``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.comment_data import Comment, CommentUniverse
from sandbox.comment_params import COMMENT_SORTS, DEFAULT_SORT, note_id
from sandbox.comment_shapes import (
    MIXED,
    READABLE_COMMENT_SHAPES,
    comment_object,
    page_data,
    with_replies,
)
from sandbox.config import SandboxConfig
from sandbox.data import stable_fraction
from sandbox.queries import CommentRequest, InvalidParameters, UnknownTarget, ValidQuery

COMMENT_PAGE_SIZE = 10
REPLY_PAGE_SIZE = 10


@dataclass(frozen=True)
class CommentSlice:
    """One page: its comments, the cursor it gives ("" when it is empty) and whether more follow."""

    comments: list[Comment]
    cursor: str
    has_more: bool


class CommentService:
    """The comment endpoints' answers, from the universe and the live configuration."""

    def __init__(self, universe: CommentUniverse, config: SandboxConfig) -> None:
        self.universe = universe
        self.config = config

    def shape(self, query: ValidQuery) -> str:
        if self.config.comment_shape != MIXED:
            return self.config.comment_shape
        roll = stable_fraction(self.universe.seed, "comment-shape", query.endpoint, query.billing_key)
        return READABLE_COMMENT_SHAPES[int(roll * len(READABLE_COMMENT_SHAPES))]

    def data(self, query: ValidQuery) -> Any:
        """The ``data`` of a successful answer to *query*."""
        request = query.comments
        assert request is not None
        page = self.page(request, self.config.comment_stuck_page)
        objects = [self.comment_data(comment, inline=not request.comment_id) for comment in page.comments]
        return page_data(objects, page.cursor, page.has_more, self.shape(query))

    def listed(self, request: CommentRequest) -> tuple[list[Comment], int]:
        """The comments the request pages through, and its page size."""
        if not request.comment_id:
            return self.universe.top_level(request.note_id, request.sort), COMMENT_PAGE_SIZE
        parent = self.universe.find(request.note_id, request.comment_id)
        if parent is None:
            raise UnknownTarget("note %s has no comment %s" % (request.note_id, request.comment_id))
        return list(self.universe.replies(parent)), REPLY_PAGE_SIZE

    def page(self, request: CommentRequest, stuck: int | None) -> CommentSlice:
        """The page *request* asks for; from page *stuck* on, the page before it again."""
        comments, size = self.listed(request)
        cursors = [self.universe.cursor(comment, request.sort) for comment in comments]
        start = 0
        if request.cursor:
            if request.cursor not in cursors:
                raise InvalidParameters("unknown lastCursor")
            start = cursors.index(request.cursor) + 1
        if stuck is not None and (stuck - 1) * size <= start < len(comments):
            # The page before again: its last comment's cursor is the one asked with.
            return CommentSlice(comments[max(0, start - size):start], request.cursor, True)
        chosen = comments[start:start + size]
        return CommentSlice(chosen, cursors[start + len(chosen) - 1] if chosen else "",
                            start + size < len(comments))

    def comment_data(self, comment: Comment, inline: bool) -> dict[str, Any]:
        """A comment's object; a top-level one's with its count of replies and its first replies."""
        item = comment_object(comment, self.universe.author(comment.author_index))
        if not inline:
            return item
        replies = self.universe.replies(comment)
        shown = [comment_object(reply, self.universe.author(reply.author_index)) for reply in replies[:comment.inline]]
        more = len(replies) > comment.inline
        # With more to come, the cursor leads on from the reply before the last
        # inline one: the first reply page repeats that last one.
        lead = replies[comment.inline - 2] if more and comment.inline >= 2 else (
            replies[comment.inline - 1] if comment.inline else None)
        cursor = "" if lead is None else self.universe.cursor(lead, "")
        return with_replies(item, len(replies), shown, cursor, more)

    # The ground truth ------------------------------------------------------

    def truth(self, params: dict[str, str]) -> dict[str, Any]:
        """Every comment and reply of a note, and its pages in one order (ignoring ``comment_stuck_page``)."""
        note = note_id(params.get("noteId", ""))
        sort = params.get("sort") or DEFAULT_SORT
        if sort not in COMMENT_SORTS:
            raise InvalidParameters("sort must be one of %s" % ", ".join(COMMENT_SORTS))
        comments = self.universe.top_level(note, sort)
        pages = self.all_pages(CommentRequest(note, sort=sort))
        replies = {comment.comment_id: list(self.universe.replies(comment)) for comment in comments}
        return {
            "noteId": note, "sort": sort, "detail_count": self.universe.counter(note),
            "count": len(comments) + sum(map(len, replies.values())),
            "comments": [{"id": comment.comment_id, "parent_id": None, "sub_comment_count": len(replies[comment.comment_id]),
                          "inline": [reply.comment_id for reply in replies[comment.comment_id][:comment.inline]]}
                         for comment in comments],
            "replies": [{"id": reply.comment_id, "parent_id": reply.parent_id, "target_id": reply.target_id}
                        for comment in comments for reply in replies[comment.comment_id]],
            "pages": [[comment.comment_id for comment in page.comments] for page in pages],
            "cursors": [page.cursor for page in pages],
            "has_more": [page.has_more for page in pages],
            "reply_pages": {parent: [[reply.comment_id for reply in page.comments] for page in self.all_pages(
                CommentRequest(note, comment_id=parent))] for parent, listed in replies.items() if listed},
        }

    def all_pages(self, first: CommentRequest) -> list[CommentSlice]:
        pages = [self.page(first, stuck=None)]
        while pages[-1].has_more:
            pages.append(self.page(CommentRequest(first.note_id, first.sort, first.comment_id, pages[-1].cursor),
                                   stuck=None))
        return pages

    def grow(self, note: str, count: int) -> dict[str, Any]:
        """*count* comments published on *note*; they top its ``latest`` order from now on."""
        added = self.universe.grow(note, count)
        return {"noteId": note, "added": [comment.comment_id for comment in added],
                "detail_count": self.universe.counter(note)}
