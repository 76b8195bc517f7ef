"""Items of the discovery sources (keyword, creator, topic), for unit tests of
the store and its pipeline: valid by their schemas, changed by keyword."""

from __future__ import annotations

from typing import Any

from xhs_spider.items import AppearanceItem, CreatorItem, RawAnswerItem

CRAWLED_AT = "2026-11-22T00:00:00.000Z"


def found_note_id(number: int) -> str:
    return f"6800000000000000000000{number:02x}"


def source_appearance(number: int = 1, **changes: Any) -> AppearanceItem:
    """The *number*-th note of page 1 of the keyword 咖啡's search."""
    fields: dict[str, Any] = {
        "note_id": found_note_id(number), "source_kind": "keyword", "source_value": "咖啡",
        "page": 1, "rank": number, "position": number, "crawled_at": CRAWLED_AT,
        "title": f"咖啡 {number}", "type": "image", "likes": 12000, "likes_text": "1.2万",
        "author": {"user_id": "5c0000000000000000000001", "nickname": "豆子"},
        "endpoint": "/api/xiaohongshu/search-note/v4", "cursor": None,
    }
    return AppearanceItem({**fields, **changes})


def creator(user_id: str = "5c0000000000000000000001", **changes: Any) -> CreatorItem:
    fields: dict[str, Any] = {
        "user_id": user_id, "nickname": "豆子", "red_id": "95123456", "description": "咖啡和露营",
        "followers": 12000, "following": 31, "notes": 88, "likes_and_collects": 250000,
        "avatar": "https://sns-avatar.example.com/a.jpg", "fetched_at": CRAWLED_AT,
        "request_id": "r-user", "raw": {"basic_info": {"nickname": "豆子"}},
    }
    return CreatorItem({**fields, **changes})


def raw_answer(page: int = 1, **changes: Any) -> RawAnswerItem:
    fields: dict[str, Any] = {
        "endpoint": "/api/xiaohongshu/search-note/v4", "source_kind": "keyword", "source_value": "咖啡",
        "page": page, "cursor": None, "request_id": "r-raw", "received_at": CRAWLED_AT,
        "reason": "unreadable", "body": '{"code": 0, "data": {"shape": "unknown"}}',
    }
    return RawAnswerItem({**fields, **changes})
