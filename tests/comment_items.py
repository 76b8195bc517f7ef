"""Comments and replies of a note, for unit tests of the store and its
pipeline: valid by their schema, changed by keyword."""

from __future__ import annotations

from typing import Any

from xhs_spider.items import CommentItem

FETCHED_AT = "2026-11-22T00:00:00.000Z"
COMMENTED_NOTE = "680000000000000000000c01"


def comment(number: int = 1, **changes: Any) -> CommentItem:
    """The *number*-th comment (level 1) on :data:`COMMENTED_NOTE`."""
    fields: dict[str, Any] = {
        "comment_id": f"c{number:04d}", "note_id": COMMENTED_NOTE, "parent_id": None, "level": 1,
        "author": {"user_id": "5c0000000000000000000002", "nickname": "评论者"},
        "content": f"好看 {number}", "likes": 12000, "likes_text": "1.2万",
        "created_at": "2026-11-21T08:00:00.000Z", "ip_location": "上海", "reply_count": 2,
        "fetched_at": FETCHED_AT, "endpoint": "/api/xiaohongshu/get-note-comment/v2", "sort": "latest",
    }
    return CommentItem({**fields, **changes})


def reply(number: int = 1, parent: int = 1, **changes: Any) -> CommentItem:
    """The *number*-th reply (level 2) to comment *parent*."""
    fields: dict[str, Any] = {
        "comment_id": f"r{parent:04d}-{number:02d}", "parent_id": f"c{parent:04d}", "level": 2,
        "content": f"同意 {number}", "likes": 3, "likes_text": None, "reply_count": None,
        "endpoint": "/api/xiaohongshu/get-note-sub-comment/v2",
    }
    return comment(parent, **{**fields, **changes})
