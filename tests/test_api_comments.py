"""Comment and reply answers read whatever their shape: the comments of a
page in order with their inline replies, the next cursor, has_more, and
whether anything was recognisable at all. Nothing raises on odd values."""

from __future__ import annotations

import random
from typing import Any

import pytest

from xhs_spider.api.comments import (
    SKIP_REASONS,
    CommentPage,
    FoundComment,
    read_comment,
    read_comment_page,
    read_reply_page,
    trail_page,
)
from xhs_spider.api.paging import (
    STOP_CURSOR_REPEATED,
    STOP_NO_MORE,
    STOP_SAME_CURSOR,
    STOP_SAME_PAGE,
    PageTrail,
)

NOTE = "68f6143600000000603d953b"
IDS = [f"69a{index:021x}" for index in range(1, 40)]
CURSOR = "pIs3AnqRG+3o39u2rD+G/tfpphoOzQ=="


def reply(index: int, **extra: Any) -> dict[str, Any]:
    return {"id": IDS[index], "content": f"reply {index}", "like_count": index, "create_time": 1772080367810,
            "ip_location": "上海", "user_info": {"user_id": f"user{index}", "nickname": f"nick {index}"}, **extra}


def app_comment(index: int, replies: int = 0, **extra: Any) -> dict[str, Any]:
    """A comment as the app sends it, with *replies* replies inline."""
    return {
        **reply(index), "content": f"comment {index}", "like_count": "1.2万",
        "sub_comment_count": replies, "sub_comments": [reply(30 + n) for n in range(replies)],
        "sub_comment_cursor": CURSOR, "sub_comment_has_more": False, **extra,
    }


THREE = [app_comment(0, replies=2), app_comment(1), app_comment(2)]


def camel(value: Any) -> Any:
    keys = {"like_count": "likeCount", "create_time": "createTime", "ip_location": "ipLocation",
            "user_info": "userInfo", "user_id": "userId", "sub_comment_count": "subCommentCount",
            "sub_comments": "subComments", "sub_comment_cursor": "subCommentCursor",
            "sub_comment_has_more": "subCommentHasMore", "has_more": "hasMore"}
    if isinstance(value, list):
        return [camel(entry) for entry in value]
    if isinstance(value, dict):
        return {keys.get(key, key): camel(inner) for key, inner in value.items()}
    return value


def ids(page: CommentPage) -> list[str]:
    return [comment.comment_id for comment in page.comments]


@pytest.mark.parametrize("data", [
    {"comments": THREE, "cursor": CURSOR, "has_more": True},
    {"success": True, "msg": "成功", "data": {"comments": THREE, "cursor": CURSOR, "has_more": True}},
    camel({"comments": THREE, "cursor": CURSOR, "has_more": True}),
    {"list": THREE, "lastCursor": CURSOR, "hasMore": "true"},
], ids=["flat", "wrapped", "camel", "other keys"])
def test_every_shape_gives_the_comments_replies_and_paging(data):
    page = read_comment_page(data, NOTE)
    assert ids(page) == IDS[:3] and (page.cursor, page.has_more, page.readable) == (CURSOR, True, True)
    first = page.comments[0]
    assert (first.level, first.parent_id, first.note_id, first.reply_count) == (1, None, NOTE, 2)
    assert (first.likes, first.likes_text) == (12000, "1.2万")
    assert (first.author_id, first.author_nickname, first.ip_location) == ("user0", "nick 0", "上海")
    assert first.created_at == "2026-02-26T04:32:47.810Z"
    assert [(r.comment_id, r.level, r.parent_id) for r in first.replies] == [(IDS[30], 2, IDS[0]), (IDS[31], 2, IDS[0])]
    assert (first.reply_cursor, first.replies_more, first.replies_complete) == (CURSOR, False, True)
    assert [c.comment_id for c in page.every_comment()] == [IDS[0], IDS[30], IDS[31], IDS[1], IDS[2]]


def test_a_reply_page_gives_level_two_under_its_comment():
    page = read_reply_page({"comments": [reply(5), reply(6)], "cursor": "", "has_more": False}, NOTE, IDS[0])
    assert [(c.comment_id, c.level, c.parent_id, c.note_id) for c in page.comments] == [
        (IDS[5], 2, IDS[0], NOTE), (IDS[6], 2, IDS[0], NOTE)]
    assert (page.cursor, page.has_more, page.readable) == (None, False, True)


def test_whether_replies_need_a_page():
    def complete(**fields: Any) -> bool:
        found = read_comment(app_comment(0, replies=2, **fields))
        assert isinstance(found, FoundComment)
        return found.replies_complete

    assert complete(sub_comment_has_more=False)
    assert not complete(sub_comment_has_more=True, sub_comment_count=5)
    # The inline replies already number the count: nothing more to ask for, whatever the flag.
    assert complete(sub_comment_has_more=True, sub_comment_count=2)
    assert complete(sub_comment_has_more=None, sub_comment_count="2")
    assert not complete(sub_comment_has_more=None, sub_comment_count="10+")
    assert not complete(sub_comment_has_more=None, sub_comment_count=None)


@pytest.mark.parametrize(("likes", "value", "text", "rejected"), [
    (345, 345, None, ()),
    ("345", 345, "345", ()),
    ("1.2万", 12000, "1.2万", ()),
    ("10+", 10, "10+", ()),
    (None, None, None, ()),
    ("很多", None, "很多", ("likes",)),
    (-3, None, "-3", ("likes",)),
    (True, None, None, ("likes",)),
    (float("nan"), None, "nan", ("likes",)),
    (10**20, None, str(10**20), ("likes",)),
])
def test_likes_as_a_number_and_as_the_apis_text(likes, value, text, rejected):
    found = read_comment({**reply(1), "like_count": likes})
    assert isinstance(found, FoundComment)
    assert (found.likes, found.likes_text, found.rejected) == (value, text, rejected)


def test_nulls_and_missing_fields_leave_the_comment_readable():
    found = read_comment({"id": IDS[1], "content": None, "like_count": None, "create_time": None,
                          "ip_location": None, "user_info": None, "sub_comment_count": None, "sub_comments": None})
    assert isinstance(found, FoundComment)
    assert (found.content, found.likes, found.created_at, found.author_id, found.reply_count) == ("", None, None, None, None)
    assert (found.replies, found.rejected, found.note_id) == ((), (), None)
    bare = read_comment({"id": f" {IDS[2]}\n"})
    assert isinstance(bare, FoundComment) and bare.comment_id == IDS[2]
    assert read_comment({"commentId": 123}) != "no_id"


def test_odd_times_and_counts_are_rejected_not_raised():
    found = read_comment({**reply(1), "create_time": "yesterday", "sub_comment_count": "lots"})
    assert isinstance(found, FoundComment)
    assert (found.created_at, found.reply_count) == (None, None)
    assert found.rejected == ("created_at", "reply_count")
    seconds = read_comment({**reply(1), "create_time": 1772080367})
    assert isinstance(seconds, FoundComment) and seconds.created_at == "2026-02-26T04:32:47.000Z"


def test_entries_that_are_no_comment_are_skipped_and_counted():
    entries = [app_comment(0, sub_comments=[reply(30), "x", {"content": "no id"}]), None, 7, "text", [],
               {"content": "no id"}, {"id": "  "}, app_comment(1)]
    page = read_comment_page({"comments": entries, "has_more": False})
    assert ids(page) == IDS[:2] and [r.comment_id for r in page.comments[0].replies] == [IDS[30]]
    assert page.skipped == {"malformed": 5, "no_id": 3}
    assert set(page.skipped) <= set(SKIP_REASONS)


def test_empty_and_unreadable_answers():
    empty = read_comment_page({"comments": [], "cursor": "", "has_more": False})
    assert (empty.comments, empty.readable, empty.cursor, empty.has_more) == ((), True, None, False)
    assert read_comment_page({"comments": []}).readable
    for data in ({"weird": 1}, None, [], "text", 3, {"data": None}, {"comments": None}):
        page = read_comment_page(data)
        assert (page.comments, page.readable) == ((), False), data


def test_the_list_with_the_most_comments_wins():
    data = {"tags": [{"id": IDS[9], "name": "tag"}], "data": {"comments": THREE}}
    assert ids(read_comment_page(data)) == IDS[:3]


def test_a_comment_page_pages_by_the_trails_rules():
    trail = PageTrail(10, by_cursor=True)
    first = read_comment_page({"comments": THREE, "cursor": "a+/", "has_more": True})
    assert trail.follow(trail_page(first)) is None and trail.cursor == "a+/"
    stuck = read_comment_page({"comments": [app_comment(3)], "cursor": "a+/", "has_more": True})
    assert trail.follow(trail_page(stuck)) == STOP_SAME_CURSOR
    repeated = PageTrail(10, by_cursor=True)
    assert repeated.follow(trail_page(first)) is None
    assert repeated.follow(trail_page(read_comment_page({"comments": THREE, "cursor": "b"}))) == STOP_SAME_PAGE
    cycle = PageTrail(10, by_cursor=True)
    for index, cursor in ((4, "a"), (5, "b")):
        page = read_comment_page({"comments": [app_comment(index)], "cursor": cursor, "has_more": True})
        assert cycle.follow(trail_page(page)) is None
    assert cycle.follow(trail_page(read_comment_page({"comments": [app_comment(9)], "cursor": "a"}))) == (
        STOP_CURSOR_REPEATED)
    last = PageTrail(10, by_cursor=True)
    assert last.follow(trail_page(read_comment_page({"comments": THREE, "has_more": False}))) == STOP_NO_MORE


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["dict", "list", "null", "bool", "int", "float", "str", "id"] if depth < 4 else
                      ["null", "bool", "int", "float", "str", "id"])
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == "dict":
        keys = ["comments", "data", "list", "id", "cursor", "has_more", "hasMore", "like_count", "likeCount",
                "create_time", "user_info", "userInfo", "sub_comments", "subComments", "sub_comment_count",
                "sub_comment_has_more", "sub_comment_cursor", "content", "note_id", "x"]
        return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return {"null": None, "bool": rng.random() < 0.5, "int": rng.randint(-10, 10**20),
            "float": rng.choice([0.5, -1.0, float("inf"), float("nan"), 1e300]),
            "str": rng.choice(["", "comment", "1.2万", "10+", "\ud800", "+/="]),
            "id": rng.choice(IDS)}[kind]


def test_random_json_never_breaks_the_reader():
    rng = random.Random(2020)
    for _ in range(3000):
        data = random_json(rng)
        for page in (read_comment_page(data, NOTE), read_reply_page(data, NOTE, IDS[0])):
            assert all(isinstance(c.comment_id, str) and c.comment_id for c in page.every_comment())
            assert all(c.level in (1, 2) and (c.level == 1) == (c.parent_id is None) for c in page.every_comment())
            assert page.cursor is None or (isinstance(page.cursor, str) and page.cursor)
            assert page.has_more in (None, True, False)
            assert set(page.skipped) <= set(SKIP_REASONS)
            assert page.readable or not page.comments
            trail_page(page)
