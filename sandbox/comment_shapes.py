"""The shapes the comment endpoints answer in: the ``data`` a client must read.

The vendor publishes no schema for them; what the app's and the web's
payloads look like in open-source clients is what the sandbox serves:

- ``flat``: ``{"comments": [...], "cursor", "has_more"}``, each comment the
  app's object (``id``, ``content``, ``like_count``, ``create_time`` in ms,
  ``ip_location``, ``user_info`` {``user_id``, ``nickname``, ``image``},
  ``sub_comment_count``, ``sub_comments``, ``sub_comment_cursor``,
  ``sub_comment_has_more``; a reply to a reply has ``target_comment``);
- ``wrapped``: the app's whole answer as ``data``: ``{"success": true,
  "msg": "成功", "data": <flat>}``;
- ``camel``: the same fields in camelCase (``likeCount``, ``createTime``,
  ``userInfo.userId``, ``subComments``, ``hasMore``, …), counters always text;
- ``unreadable``: code 0 with ``{"weird": 1}``.

Counters (``like_count``, ``sub_comment_count``) are numbers, or text
("1.2万", "10+", "3") for about a quarter of the comments; in ``camel`` always text.
"""

from __future__ import annotations

from typing import Any

from sandbox.comment_data import Comment
from sandbox.data import Author, display_counter, seeded_rng
from sandbox.discovery_shapes import FLAT, MIXED, UNREADABLE, UNREADABLE_DATA, WRAPPED

CAMEL = "camel"
#: The shapes ``mixed`` draws from, page by page.
READABLE_COMMENT_SHAPES = (FLAT, WRAPPED, CAMEL)
COMMENT_SHAPES = (MIXED, *READABLE_COMMENT_SHAPES, UNREADABLE)
CAMEL_KEYS = {
    "like_count": "likeCount", "create_time": "createTime", "ip_location": "ipLocation", "user_info": "userInfo",
    "user_id": "userId", "note_id": "noteId", "sub_comment_count": "subCommentCount", "sub_comments": "subComments",
    "sub_comment_cursor": "subCommentCursor", "sub_comment_has_more": "subCommentHasMore",
    "target_comment": "targetComment", "has_more": "hasMore",
}


def counter(value: int, as_text: bool, seed: object) -> int | str:
    return display_counter(value, seeded_rng("comment-counter", seed)) if as_text else value


def user_info(author: Author) -> dict[str, Any]:
    return {"user_id": author.user_id, "nickname": author.nickname, "image": author.avatar_url(120)}


def comment_object(comment: Comment, author: Author) -> dict[str, Any]:
    """*comment* as the app sends it, without its replies."""
    item: dict[str, Any] = {
        "id": comment.comment_id,
        "note_id": comment.note_id,
        "content": comment.content,
        "like_count": counter(comment.likes, comment.likes_as_text, comment.comment_id),
        "liked": False,
        "create_time": comment.created_ms,
        "ip_location": comment.ip_location,
        "status": 0,
        "user_info": user_info(author),
        "at_users": [],
        "show_tags": [],
    }
    if comment.target_id is not None:
        item["target_comment"] = {"id": comment.target_id}
    return item


def with_replies(item: dict[str, Any], count: int, inline: list[dict[str, Any]], cursor: str,
                 more: bool) -> dict[str, Any]:
    """A top-level comment's object with its reply count (text when its likes are) and first replies."""
    as_text = isinstance(item["like_count"], str)
    item.update(sub_comment_count=str(count) if as_text else count, sub_comments=inline,
                sub_comment_cursor=cursor, sub_comment_has_more=more)
    return item


def camel(value: Any) -> Any:
    """*value* with the app's snake_case keys in camelCase and counters as text."""
    if isinstance(value, list):
        return [camel(entry) for entry in value]
    if not isinstance(value, dict):
        return value
    renamed = {CAMEL_KEYS.get(key, key): camel(inner) for key, inner in value.items()}
    for key in ("likeCount", "subCommentCount"):
        if isinstance(renamed.get(key), int):
            renamed[key] = str(renamed[key])
    return renamed


def page_data(comments: list[dict[str, Any]], cursor: str, has_more: bool, shape: str) -> Any:
    """A page of comments (or replies) in *shape*."""
    if shape == UNREADABLE:
        return dict(UNREADABLE_DATA)
    flat = {"comments": comments, "cursor": cursor, "has_more": has_more}
    if shape == WRAPPED:
        return {"success": True, "msg": "成功", "code": 0, "data": flat}
    if shape == CAMEL:
        return camel(flat)
    return flat
