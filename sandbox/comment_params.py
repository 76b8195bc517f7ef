"""The comment endpoints' paths and the parameter checks the vendor makes.

``get-note-comment`` (v2, and v3 and v4 answering the same) pages through a
note's comments by ``lastCursor`` in one of three orders; ``get-note-sub-comment``
pages through the replies to one comment. A call that passes becomes a
:class:`ValidQuery` carrying a :class:`CommentRequest`; one that does not
raises :class:`InvalidParameters` (code 400, unbilled). Whether the cursor,
or the comment id, belongs to the note is checked later, against the data
(:mod:`sandbox.comments`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from sandbox.data import is_valid_note_id
from sandbox.queries import CommentRequest, InvalidParameters, ValidQuery

COMMENTS = "comments"
SUB_COMMENTS = "sub_comments"
COMMENT_PATHS = {
    "/api/xiaohongshu/get-note-comment/v2": COMMENTS,
    "/api/xiaohongshu/get-note-comment/v3": COMMENTS,
    "/api/xiaohongshu/get-note-comment/v4": COMMENTS,
    "/api/xiaohongshu/get-note-sub-comment/v2": SUB_COMMENTS,
}
#: The vendor's sort values; ``latest`` is its default.
COMMENT_SORTS = ("latest", "normal", "like_count")
DEFAULT_SORT = "latest"
NOTE_HOSTS = ("www.xiaohongshu.com", "xiaohongshu.com")
NOTE_PATH = re.compile(r"^/(?:explore|discovery/item)/([0-9a-f]{24})/?$")
COMMENT_ID = re.compile(r"^[0-9a-f]{24}$")


def note_id(text: str) -> str:
    """The note id in *text*: an id, or an explore URL of Xiaohongshu holding one."""
    if is_valid_note_id(text):
        return text
    parts = urlsplit(text.strip())
    match = NOTE_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or parts.hostname not in NOTE_HOSTS or not match:
        raise InvalidParameters("noteId must be a note id or a note URL containing /explore/<id>")
    return match.group(1)


def comment_query(endpoint: str, request: CommentRequest) -> ValidQuery:
    """The query of a comment call; its billing key names the page asked for."""
    key = "|".join((request.note_id, request.comment_id or request.sort, request.cursor))
    return ValidQuery(endpoint, key, note_id=request.note_id, comments=request)


def validate_comments(params: dict[str, str]) -> ValidQuery:
    sort = params.get("sort") or DEFAULT_SORT
    if sort not in COMMENT_SORTS:
        raise InvalidParameters("sort must be one of %s" % ", ".join(COMMENT_SORTS))
    request = CommentRequest(note_id(params.get("noteId", "")), sort=sort, cursor=params.get("lastCursor", ""))
    return comment_query(COMMENTS, request)


def validate_sub_comments(params: dict[str, str]) -> ValidQuery:
    comment_id = params.get("commentId", "")
    if not COMMENT_ID.match(comment_id):
        raise InvalidParameters("commentId must be 24 lowercase hex characters")
    request = CommentRequest(note_id(params.get("noteId", "")), comment_id=comment_id,
                             cursor=params.get("lastCursor", ""))
    return comment_query(SUB_COMMENTS, request)


COMMENT_VALIDATORS: dict[str, Callable[[dict[str, str]], ValidQuery]] = {
    COMMENTS: validate_comments,
    SUB_COMMENTS: validate_sub_comments,
}
