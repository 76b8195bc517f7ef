"""The sandbox's comment endpoints (a note's comments, a comment's replies) over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest

from sandbox import SandboxProcess
from tests.conftest import TOKEN, feed_note_ids
from xhs_spider.api.comments import read_comment_page, read_reply_page
from xhs_spider.api.normalize import parse_counter

COMMENTS = "/api/xiaohongshu/get-note-comment/v2"
COMMENTS_V3 = "/api/xiaohongshu/get-note-comment/v3"
COMMENTS_V4 = "/api/xiaohongshu/get-note-comment/v4"
REPLIES = "/api/xiaohongshu/get-note-sub-comment/v2"
DETAIL = "/api/xiaohongshu-pgy/get-note-detail/v1"
ENVELOPE_KEYS = {"code", "data", "message", "recordTime", "requestId"}
#: The most comments and replies the sandbox's thread of a note holds (docs/sandbox.md).
THREAD_CAP = 400


@pytest.fixture
def comments_api(api: SandboxProcess) -> SandboxProcess:
    """The shared sandbox with the comment settings at their defaults and every note available."""
    api.configure(comment_shape="mixed", comment_stuck_page=None, unavailable_rate=0)
    return api


def get(api: SandboxProcess, path: str, **params: object) -> tuple[int, dict[str, Any]]:
    """An API call, its parameters URL-encoded as a client must."""
    url = "%s%s?%s" % (api.url, path, urlencode({"token": TOKEN, **params}))
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def served(api: SandboxProcess, path: str, **params: object) -> Any:
    """The ``data`` of a successful call, after checking its envelope."""
    status, envelope = get(api, path, **params)
    assert (status, set(envelope), envelope["code"]) == (200, ENVELOPE_KEYS, 0), envelope
    assert envelope["recordTime"] and envelope["message"] == "success"
    return envelope["data"]


def feed_notes(api: SandboxProcess, pages: int = 3) -> list[str]:
    return [note_id for page in range(1, pages + 1) for note_id in feed_note_ids(api, "homefeed_recommend", page)]


def busy_note(api: SandboxProcess, least: int = 150) -> str:
    """A note of the feed whose thread holds at least *least* comments and replies."""
    return next(note_id for note_id in feed_notes(api) if api.comments(note_id)["count"] >= least)


def all_pages(api: SandboxProcess, note_id: str, **params: object) -> list[dict[str, Any]]:
    """Every page of a note's comments, asked one after the other by lastCursor (flat shape)."""
    pages, cursor = [served(api, COMMENTS, noteId=note_id, **params)], ""
    while pages[-1]["has_more"]:
        cursor = pages[-1]["cursor"]
        pages.append(served(api, COMMENTS, noteId=note_id, lastCursor=cursor, **params))
        assert len(pages) < 60
    return pages


def ids(page: dict[str, Any]) -> list[str]:
    return [comment["id"] for comment in page["comments"]]


def test_a_notes_thread_agrees_with_its_detail_counter(comments_api):
    for note_id in feed_notes(comments_api, pages=1)[:8]:
        counter = served(comments_api, DETAIL, noteId=note_id)["cmtNum"]
        truth = comments_api.comments(note_id)
        assert truth["detail_count"] == counter
        assert truth["count"] == min(counter, THREAD_CAP) == len(truth["comments"]) + len(truth["replies"])
        assert sum(comment["sub_comment_count"] for comment in truth["comments"]) == len(truth["replies"])
    # Asked again, the counter stays (it grows with comments only), unlike the likes.
    again = served(comments_api, DETAIL, noteId=note_id)
    assert again["cmtNum"] == counter


def test_every_shape_is_served_and_read_and_one_can_be_forced(comments_api):
    note_id = busy_note(comments_api)
    shapes = set()
    for page in comments_api.comments(note_id)["cursors"][:-1][:8]:
        data = served(comments_api, COMMENTS, noteId=note_id, lastCursor=page)
        shapes.add("wrapped" if "success" in data else "camel" if "hasMore" in data else "flat")
        assert len(read_comment_page(data, note_id).comments) == 10
    assert shapes == {"flat", "wrapped", "camel"}
    truth = comments_api.comments(note_id)
    for shape in ("flat", "wrapped", "camel"):
        comments_api.configure(comment_shape=shape)
        page = read_comment_page(served(comments_api, COMMENTS, noteId=note_id), note_id)
        assert [comment.comment_id for comment in page.comments] == truth["pages"][0], shape
        assert page.cursor == truth["cursors"][0] and page.has_more is True
    comments_api.configure(comment_shape="unreadable")
    assert served(comments_api, COMMENTS, noteId=note_id) == {"weird": 1}  # billed all the same
    assert not read_comment_page({"weird": 1}).readable
    with pytest.raises(ValueError, match="comment_shape"):
        comments_api.configure(comment_shape="round")


def test_comments_carry_the_apps_fields_with_counters_as_numbers_and_text(comments_api):
    comments_api.configure(comment_shape="flat")
    note_id = busy_note(comments_api)
    comments = [comment for page in all_pages(comments_api, note_id) for comment in page["comments"]]
    for comment in comments:
        assert {"id", "content", "like_count", "create_time", "ip_location", "user_info", "sub_comment_count",
                "sub_comments", "sub_comment_cursor", "sub_comment_has_more"} <= set(comment)
        assert comment["user_info"]["user_id"] and comment["user_info"]["nickname"]
        assert comment["create_time"] > 10**12  # milliseconds
    likes = [comment["like_count"] for comment in comments]
    assert {type(value) for value in likes} == {int, str}
    assert all(parse_counter(value) is not None for value in likes)


def test_paging_by_url_encoded_cursor_gives_every_comment_once_in_order(comments_api):
    comments_api.configure(comment_shape="flat")
    note_id = busy_note(comments_api)
    truth = comments_api.comments(note_id)
    pages = all_pages(comments_api, note_id)
    assert [ids(page) for page in pages] == truth["pages"] and len(pages) >= 5
    cursors = [page["cursor"] for page in pages]
    assert cursors == truth["cursors"] and len(set(cursors)) == len(cursors)
    assert all("+" in cursor and "/" in cursor for cursor in cursors)
    assert [comment["id"] for comment in truth["comments"]] == [i for page in truth["pages"] for i in page]
    times = [comment["create_time"] for page in pages for comment in page["comments"]]
    assert times == sorted(times, reverse=True)  # latest, the default
    # A cursor sent without URL-encoding: "+" arrives as a space, a cursor the note never gave.
    raw = "%s%s?token=%s&noteId=%s&lastCursor=%s" % (comments_api.url, COMMENTS, TOKEN, note_id, cursors[0])
    with urllib.request.urlopen(raw, timeout=10) as answer:
        assert json.load(answer)["code"] == 400
    # The last cursor leads to an empty page.
    assert served(comments_api, COMMENTS, noteId=note_id, lastCursor=cursors[-1]) == {
        "comments": [], "cursor": "", "has_more": False}


def test_the_three_orders(comments_api):
    comments_api.configure(comment_shape="flat")
    note_id = busy_note(comments_api)
    by_likes = [comment for page in all_pages(comments_api, note_id, sort="like_count") for comment in page["comments"]]
    likes = [parse_counter(comment["like_count"]) or 0 for comment in by_likes]
    # Text counters round ("1.2万"): the order is by the exact count, so compare loosely.
    assert likes[0] >= likes[len(likes) // 2] >= likes[-1]
    latest = comments_api.comments(note_id)["comments"]
    normal = comments_api.comments(note_id, sort="normal")["comments"]
    assert sorted(map(str, latest)) == sorted(map(str, normal)) and latest != normal
    assert get(comments_api, COMMENTS, noteId=note_id, sort="hot")[1]["code"] == 400


def test_replies_inline_overlap_the_reply_pages_and_add_up_to_the_truth(comments_api):
    comments_api.configure(comment_shape="flat")
    note_id = busy_note(comments_api)
    truth = comments_api.comments(note_id)
    parents = {reply["id"]: reply["parent_id"] for reply in truth["replies"]}
    found: dict[str, str] = {}
    overlaps = 0
    for page in all_pages(comments_api, note_id):
        for comment in page["comments"]:
            inline = [reply["id"] for reply in comment["sub_comments"]]
            found.update(dict.fromkeys(inline, comment["id"]))
            cursor, more = comment["sub_comment_cursor"], comment["sub_comment_has_more"]
            assert more == (int(comment["sub_comment_count"]) > len(inline))
            while more:
                replies = served(comments_api, REPLIES, noteId=note_id, commentId=comment["id"], lastCursor=cursor)
                got = ids(replies)
                overlaps += bool(set(got) & set(inline))
                found.update(dict.fromkeys(got, comment["id"]))
                cursor, more = replies["cursor"], replies["has_more"]
    assert found == parents and overlaps >= 1
    parent = next(comment for comment in truth["comments"] if comment["sub_comment_count"] > 10)
    first = served(comments_api, REPLIES, noteId=note_id, commentId=parent["id"])
    assert ids(first)[:len(parent["inline"])] == parent["inline"]  # without a cursor: from the first reply
    assert ids(first) == truth["reply_pages"][parent["id"]][0]
    page = read_reply_page(first, note_id, parent["id"])
    assert {(reply.level, reply.parent_id) for reply in page.comments} == {(2, parent["id"])}


def test_the_stuck_cursor_option_repeats_the_page_and_its_cursor(comments_api):
    comments_api.configure(comment_shape="flat", comment_stuck_page=2)
    note_id = busy_note(comments_api)
    first = served(comments_api, COMMENTS, noteId=note_id)
    again = served(comments_api, COMMENTS, noteId=note_id, lastCursor=first["cursor"])
    assert (ids(again), again["cursor"], again["has_more"]) == (ids(first), first["cursor"], True)
    assert comments_api.comments(note_id)["pages"][1] != ids(first)  # the truth is not stuck
    with pytest.raises(ValueError, match="comment_stuck_page"):
        comments_api.configure(comment_stuck_page=1)


def test_a_note_gains_comments_newest_first_and_its_counter_with_them(comments_api):
    comments_api.configure(comment_shape="flat")
    note_id = busy_note(comments_api)
    before = comments_api.comments(note_id)
    counter = served(comments_api, DETAIL, noteId=note_id)["cmtNum"]
    first = served(comments_api, COMMENTS, noteId=note_id)
    added = comments_api.grow_comments(note_id, 3)
    assert len(added) == 3 and not set(added) & {comment["id"] for comment in before["comments"]}
    grown = served(comments_api, COMMENTS, noteId=note_id)
    assert ids(grown)[:4] == [*added, ids(first)[0]]
    assert served(comments_api, DETAIL, noteId=note_id)["cmtNum"] == counter + 3
    after = comments_api.comments(note_id)
    assert (after["count"], after["detail_count"]) == (before["count"] + 3, before["detail_count"] + 3)
    # An old cursor still leads on to the same comments.
    assert ids(served(comments_api, COMMENTS, noteId=note_id, lastCursor=first["cursor"])) == before["pages"][1]
    assert comments_api.grow_comments(note_id, 1)[0] not in added
    with pytest.raises(ValueError, match="comments in all"):
        comments_api.grow_comments(note_id, 0)
    comments_api.reset()
    assert comments_api.comments(note_id)["count"] == before["count"]


def test_ground_truth_is_free_and_billing_counts_each_page_asked(comments_api):
    note_id = busy_note(comments_api)
    truth = comments_api.comments(note_id)
    parent = next(comment["id"] for comment in truth["comments"] if comment["sub_comment_count"])
    served(comments_api, COMMENTS, noteId=note_id)
    served(comments_api, COMMENTS_V4, noteId=note_id)  # the same page again, on another version
    served(comments_api, COMMENTS_V3, noteId="https://www.xiaohongshu.com/explore/%s?xsec_token=AB1" % note_id,
           lastCursor=truth["cursors"][0], sort="latest")
    served(comments_api, REPLIES, noteId=note_id, commentId=parent)
    stats = comments_api.stats()
    assert (stats["calls_by_endpoint"]["comments"], stats["billed_by_endpoint"]["comments"]) == (3, 3)
    assert (stats["calls_by_endpoint"]["sub_comments"], stats["billed_by_endpoint"]["sub_comments"]) == (1, 1)
    assert stats["billed_by_path"] == {COMMENTS: 1, COMMENTS_V3: 1, COMMENTS_V4: 1, REPLIES: 1}
    assert stats["comments_billed_by_request"] == {
        "comments|%s|latest|" % note_id: 2,
        "comments|%s|latest|%s" % (note_id, truth["cursors"][0]): 1,
        "sub_comments|%s|%s|" % (note_id, parent): 1,
    }
    assert stats["billed"] == 4  # the ground truth costs nothing


BAD_CALLS = [
    (COMMENTS, {}),
    (COMMENTS, {"noteId": "not-a-note"}),
    (COMMENTS, {"noteId": "https://example.com/explore/68f6143600000000603d953b"}),
    (COMMENTS, {"noteId": "68f6143600000000603d953b", "sort": "newest"}),
    (COMMENTS, {"noteId": "68f6143600000000603d953b", "lastCursor": "abc+def/=="}),
    (REPLIES, {"noteId": "68f6143600000000603d953b"}),
    (REPLIES, {"noteId": "68f6143600000000603d953b", "commentId": "x"}),
]


def test_bad_calls_unknown_comments_and_faults(comments_api):
    for path, params in BAD_CALLS:
        status, envelope = get(comments_api, path, **params)
        assert (status, envelope["code"], envelope["recordTime"]) == (200, 400, None), (path, params)
    note_id = busy_note(comments_api)
    assert get(comments_api, REPLIES, noteId=note_id, commentId="0" * 24)[1]["code"] == 404
    assert comments_api.stats()["billed"] == 0
    comments_api.configure(unavailable_rate=1.0)
    assert get(comments_api, COMMENTS, noteId=note_id)[1]["code"] == 201  # billed, as the detail's
    comments_api.configure(unavailable_rate=0, faults={"301": 1.0}, max_consecutive_faults=1)
    assert get(comments_api, COMMENTS, noteId=note_id)[1]["code"] == 301
    assert get(comments_api, COMMENTS, noteId=note_id)[1]["code"] == 0
    comments_api.configure(faults={}, truncated_rate=1.0)
    url = "%s%s?%s" % (comments_api.url, REPLIES, urlencode({"token": TOKEN, "noteId": note_id,
                                                              "commentId": comments_api.comments(note_id)["comments"][0]["id"]}))
    with urllib.request.urlopen(url, timeout=10) as answer, pytest.raises(json.JSONDecodeError):
        json.loads(answer.read())
    comments_api.configure(truncated_rate=0, quota=comments_api.stats()["billed"])
    assert get(comments_api, COMMENTS, noteId=note_id)[1]["code"] == 303
    comments_api.configure(quota=None)
    url = "%s%s?%s" % (comments_api.url, COMMENTS, urlencode({"token": "wrong", "noteId": note_id}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    with refused.value as answer:
        assert (answer.code, json.load(answer)["code"]) == (401, 100)
