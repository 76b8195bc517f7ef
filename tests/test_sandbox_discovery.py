"""The sandbox's discovery endpoints (search, creators, topics, profiles, share links) over real HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest

from sandbox import SandboxProcess
from sandbox.api import SandboxApi
from sandbox.config import SandboxConfig
from tests.conftest import TOKEN

SEARCH = "/api/xiaohongshu/search-note/v4"
SEARCH_V2 = "/api/xiaohongshu/search-note/v2"
USER_NOTES = "/api/xiaohongshu/get-user-note-list/v4"
TOPIC_NOTES = "/api/xiaohongshu/get-topic-note-list/v1"
USER = "/api/xiaohongshu/get-user/v3"
SHARE = "/api/xiaohongshu/share-url-transfer/v1"
DETAIL = "/api/xiaohongshu-pgy/get-note-detail/v1"
ENVELOPE_KEYS = {"code", "data", "message", "recordTime", "requestId"}
PROFILE_URL = "https://www.xiaohongshu.com/user/profile/%s?xsec_token=AB1&xsec_source=pc_note"
KEYWORDS = ("咖啡", "露营", "穿搭", "cat cafe", "成都 火锅")


def get(api: SandboxProcess, path: str, **params: object) -> tuple[int, dict[str, Any]]:
    """An API call, its parameters URL-encoded as a client must."""
    url = "%s%s?%s" % (api.url, path, urlencode({"token": TOKEN, **params}))
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def served(api: SandboxProcess, path: str, **params: object) -> dict[str, Any]:
    """The ``data`` of a successful call, after checking its envelope."""
    status, envelope = get(api, path, **params)
    assert (status, set(envelope), envelope["code"]) == (200, ENVELOPE_KEYS, 0), envelope
    assert envelope["recordTime"] and envelope["message"] == "success"
    return envelope["data"]


def note_id_of(item: dict[str, Any]) -> str | None:
    """What a tolerant parser reads: ``id`` or ``note_id``, on the item or in ``note``."""
    if item.get("model_type", "note") != "note":
        return None
    inner = item.get("note", item)
    return inner.get("id") or inner.get("note_id")


def listed(data: dict[str, Any]) -> list[str]:
    items = data.get("items", data.get("notes", []))
    return [note_id for note_id in map(note_id_of, items) if note_id]


def detail(api: SandboxProcess, note_id: str) -> dict[str, Any]:
    data: dict[str, Any] = served(api, DETAIL, noteId=note_id)
    return data


def creators(api: SandboxProcess, least_notes: int) -> list[str]:
    return [creator["userId"] for creator in api.discovery("creators")["creators"]
            if creator["note_count"] >= least_notes]


def a_topic(api: SandboxProcess) -> str:
    topic_id: str = api.discovery("topics")["topics"][0]["topicId"]
    return topic_id


def test_every_list_answers_the_envelope_with_notes_the_detail_endpoint_answers(api):
    api.configure(unavailable_rate=0)
    creator, topic = creators(api, 25)[0], a_topic(api)
    calls = [
        (SEARCH, {"keyword": "咖啡"}, api.discovery("keyword", "咖啡")),
        (SEARCH_V2, {"keyword": "咖啡", "sort": "general", "noteType": "_0"}, api.discovery("keyword", "咖啡")),
        (USER_NOTES, {"userId": creator}, api.discovery("user", creator)),
        (TOPIC_NOTES, {"topicId": topic, "sort": "time"}, api.discovery("topic", topic, sort="time")),
    ]
    for path, params, truth in calls:
        note_ids = listed(served(api, path, **params))
        assert note_ids == truth["pages"][0] and len(note_ids) >= 10, path
        for note_id in note_ids[:3]:
            assert detail(api, note_id)["noteId"] == note_id
    for note_id in listed(served(api, USER_NOTES, userId=creator)):
        assert detail(api, note_id)["userId"] == creator  # the creator's own notes


def test_search_filters_and_sorts_agree_with_the_details(api):
    api.configure(unavailable_rate=0)
    truth = api.discovery("keyword", "咖啡", sortType="popularity_descending", noteType="VIDEO_NOTE")
    assert truth["pages"][0]
    details = [detail(api, note_id) for note_id in truth["pages"][0]]
    assert {note["type"] for note in details} == {2}  # video
    likes = [note["likeNum"] for note in details]
    assert likes == sorted(likes, reverse=True)
    recent = api.discovery("keyword", "咖啡", timeFilter="ONE_WEEK", sortType="time_descending")["note_ids"]
    everything = api.discovery("keyword", "咖啡")["note_ids"]
    assert set(recent) < set(everything)
    assert recent == sorted(recent, key=lambda note_id: int(note_id[:8], 16), reverse=True)


def profile_user_id(profile: dict[str, Any]) -> str:
    """The creator a profile names, whichever shape it came in."""
    user_id: str = profile.get("user", profile).get("userid") or profile["user_id"]
    return user_id


def test_profiles_and_share_links(api):
    creator = creators(api, 1)[0]
    for shape in ("flat", "wrapped", "note_card"):
        api.configure(discovery_shape=shape)
        assert profile_user_id(served(api, USER, userId=creator)) == creator
        assert profile_user_id(served(api, USER, userId=PROFILE_URL % creator)) == creator
    api.configure(discovery_shape="wrapped", unavailable_rate=0)
    targets = Counter()
    for code in ("a/bQ7xjb6Ojt8d", "m/AbCd", "a/Zz9", "a/k2L", "m/7pQ", "a/x1", "a/x2", "a/x3"):
        share_url = "http://xhslink.com/" + code
        truth = api.discovery("share", share_url)
        url = served(api, SHARE, shareUrl=share_url)["url"]
        assert url == truth["url"]
        targets[truth["target"]] += 1
        if truth["target"] == "note":
            assert url.startswith("https://www.xiaohongshu.com/explore/%s?xsec_token=" % truth["id"])
            assert detail(api, truth["id"])["noteId"] == truth["id"]
        else:
            assert url == "https://www.xiaohongshu.com/user/profile/%s" % truth["id"]
            assert served(api, USER, userId=url)
    assert set(targets) == {"note", "user"}


def shape_of(data: Any) -> str:
    if data == {"weird": 1}:
        return "unreadable"
    item = next(item for item in data["items"] if item.get("model_type", "note") == "note")
    return "note_card" if "note_card" in item else "wrapped" if "note" in item else "flat"


def test_every_shape_is_served_and_one_can_be_forced(api):
    truths = [api.discovery("keyword", keyword)["shapes"]["search"] for keyword in KEYWORDS]
    assert [shape_of(served(api, SEARCH, keyword=keyword)) for keyword in KEYWORDS] == [t[0] for t in truths]
    assert {shape for shapes in truths for shape in shapes} == {"flat", "wrapped", "note_card"}
    for shape in ("flat", "wrapped", "note_card", "unreadable"):
        api.configure(discovery_shape=shape)
        assert shape_of(served(api, SEARCH, keyword="咖啡")) == shape
    topic_data = served(api, TOPIC_NOTES, topicId=a_topic(api))
    assert topic_data == {"weird": 1}  # billed: a body no parser can read notes from
    assert api.stats()["billed_by_endpoint"]["topic_notes"] == 1
    with pytest.raises(ValueError, match="discovery_shape"):
        api.configure(discovery_shape="round")


def test_counters_come_as_numbers_and_as_text(api):
    api.configure(discovery_shape="flat")
    likes = [item["likes"] for keyword in KEYWORDS for item in served(api, SEARCH, keyword=keyword)["items"]]
    assert {type(value) for value in likes} == {int, str}
    assert any(value.endswith(("万", "万+")) or value == "10+" for value in likes if isinstance(value, str))
    api.configure(discovery_shape="note_card")
    cards = [item["note_card"] for item in served(api, SEARCH, keyword="咖啡")["items"] if "note_card" in item]
    assert cards and all(isinstance(card["interact_info"]["liked_count"], str) for card in cards)
    assert all(card["user"]["user_id"] and card["user"]["nickname"] for card in cards)


def test_a_creators_notes_page_by_the_last_notes_cursor_to_the_end(api):
    creator = creators(api, 35)[0]
    truth = api.discovery("user", creator)
    pages, cursors, cursor, has_more = [], [], "", True
    while has_more:
        data = served(api, USER_NOTES, userId=creator, **({"lastCursor": cursor} if cursor else {}))
        pages.append(listed(data))
        cursor, has_more = data["notes"][-1]["cursor"], data["has_more"]
        cursors.append(cursor)
    assert pages == truth["pages"] and len(pages) >= 4
    assert len(set(cursors)) == len(cursors) and all("+" in c and "/" in c for c in cursors)
    assert sum(map(len, pages)) == len(set(truth["note_ids"]))
    # Sent without URL-encoding, "+" arrives as a space: a cursor the list never gave.
    raw = "%s%s?token=%s&userId=%s&lastCursor=%s" % (api.url, USER_NOTES, TOKEN, creator, cursors[0])
    with urllib.request.urlopen(raw, timeout=10) as answer:
        assert json.load(answer)["code"] == 400


def test_a_topic_pages_by_cursor_to_the_end(api):
    topic = a_topic(api)
    truth = api.discovery("topic", topic)
    pages, cursors, cursor, has_more = [], [], "", True
    while has_more:
        data = served(api, TOPIC_NOTES, topicId=topic, cursor=cursor)
        pages.append(listed(data))
        cursor, has_more = data["cursor"], data["has_more"]
        cursors.append(cursor)
        assert len(pages) < 20
    assert pages == truth["pages"] and cursors == truth["cursors"] and cursors[-1] == ""
    assert len(set(cursors)) == len(cursors) and all("+" in c and "/" in c for c in cursors[:-1])


def test_search_pages_to_the_end_and_repeats_a_note_across_pages(api):
    repeated = [(keyword, api.discovery("keyword", keyword)) for keyword in KEYWORDS]
    keyword, truth = next((keyword, truth) for keyword, truth in repeated if truth["duplicates"])
    pages, page, has_more = [], 1, True
    while has_more:
        data = served(api, SEARCH, keyword=keyword, page=page)
        pages.append(listed(data))
        page, has_more = page + 1, data["has_more"]
    assert pages == truth["pages"]
    for note_id in truth["duplicates"]:
        assert sum(note_id in page_ids for page_ids in pages) == 2
    assert listed(served(api, SEARCH, keyword=keyword, page=page)) == []


def test_a_creators_list_grows_newest_first_and_old_cursors_still_lead_on(api):
    creator = creators(api, 25)[0]
    first = served(api, USER_NOTES, userId=creator)
    second = listed(served(api, USER_NOTES, userId=creator, lastCursor=first["notes"][-1]["cursor"]))
    api.configure(discovery_shape="flat")
    before = served(api, USER, userId=creator)["ndiscovery"]
    added = api.grow(creator, 3)
    assert len(added) == 3 and not set(added) & set(api.discovery("user", creator)["note_ids"][3:])
    grown = served(api, USER_NOTES, userId=creator)
    assert listed(grown)[:4] == [*added, listed(first)[0]]
    assert [int(note_id[:8], 16) for note_id in added] == sorted((int(i[:8], 16) for i in added), reverse=True)
    assert listed(served(api, USER_NOTES, userId=creator, lastCursor=first["notes"][-1]["cursor"])) == second
    assert served(api, USER, userId=creator)["ndiscovery"] == before + 3
    assert detail(api, added[0])["userId"] == creator
    assert api.grow(creator, 2)[1] != added[0] and api.discovery("user", creator)["note_ids"][2:5] == added
    api.reset()
    assert api.discovery("user", creator)["note_ids"][0] == listed(first)[0]


def test_the_stuck_cursor_option_returns_the_same_cursor_again(api):
    api.configure(discovery_stuck_page=2)
    topic, creator = a_topic(api), creators(api, 25)[0]
    first = served(api, TOPIC_NOTES, topicId=topic)
    again = served(api, TOPIC_NOTES, topicId=topic, cursor=first["cursor"])
    assert (again["cursor"], again["has_more"], listed(again)) == (first["cursor"], True, listed(first))
    mine = served(api, USER_NOTES, userId=creator)
    cursor = mine["notes"][-1]["cursor"]
    repeated = served(api, USER_NOTES, userId=creator, lastCursor=cursor)
    assert (repeated["notes"][-1]["cursor"], repeated["has_more"]) == (cursor, True)
    stuck = served(api, SEARCH, keyword="咖啡", page=3)
    assert (listed(stuck), stuck["has_more"]) == (listed(served(api, SEARCH, keyword="咖啡")), True)
    assert api.discovery("topic", topic)["pages"][1] != listed(first)  # the truth is not stuck


BAD_CALLS = [
    (SEARCH, {}),
    (SEARCH, {"keyword": "   "}),
    (SEARCH, {"keyword": "咖啡", "page": "0"}),
    (SEARCH, {"keyword": "咖啡", "sortType": "newest"}),
    (SEARCH, {"keyword": "咖啡", "noteType": "_1"}),
    (SEARCH, {"keyword": "咖啡", "timeFilter": "ONE_YEAR"}),
    (SEARCH_V2, {"keyword": "咖啡", "noteType": "VIDEO_NOTE"}),
    (USER_NOTES, {}),
    (USER_NOTES, {"userId": "https://www.douyin.com/user/profile/5f9d0ff800000000a2e8ce3e"}),
    (USER_NOTES, {"userId": "not-an-id"}),
    (TOPIC_NOTES, {"topicId": "coffee"}),
    (TOPIC_NOTES, {"topicId": "8e60738528c9cfbda63c37be", "sort": "new"}),
    (TOPIC_NOTES, {"topicId": "8e60738528c9cfbda63c37be", "cursor": "abc+def/=="}),
    (USER, {"userId": "https://example.com/user/profile/5f9d0ff800000000a2e8ce3e"}),
    (SHARE, {}),
    (SHARE, {"shareUrl": "https://example.com/a/bQ7xjb6Ojt8d"}),
    (SHARE, {"shareUrl": "ftp://xhslink.com/a/bQ7xjb6Ojt8d"}),
    (SHARE, {"shareUrl": "https://xhslink.com/"}),
]


def test_bad_parameters_are_400_unbilled_and_an_unknown_creator_404(api):
    for path, params in BAD_CALLS:
        status, envelope = get(api, path, **params)
        assert (status, envelope["code"], envelope["message"]) == (200, 400, "Invalid Parameters"), (path, params)
        assert envelope["recordTime"] is None
    for path in (USER_NOTES, USER):
        assert get(api, path, userId="0123456789abcdef01234567")[1]["code"] == 404
    stats = api.stats()
    assert (stats["billed"], stats["codes"]) == (0, {"400": len(BAD_CALLS), "404": 2})


def test_counters_per_path_and_per_request(api):
    creator, topic = creators(api, 1)[0], a_topic(api)
    calls = [(SEARCH, {"keyword": "咖啡"}), (SEARCH, {"keyword": "咖啡"}), (SEARCH_V2, {"keyword": "咖啡"}),
             (USER_NOTES, {"userId": creator}), (TOPIC_NOTES, {"topicId": topic}), (USER, {"userId": creator}),
             (SHARE, {"shareUrl": "https://xhslink.com/a/bQ7xjb6Ojt8d"}), (SEARCH, {"keyword": ""})]
    for path, params in calls:
        get(api, path, **params)
    stats = api.stats()
    assert stats["calls_by_path"] == {SEARCH: 3, SEARCH_V2: 1, USER_NOTES: 1, TOPIC_NOTES: 1, USER: 1, SHARE: 1}
    assert stats["billed_by_path"] == {SEARCH: 2, SEARCH_V2: 1, USER_NOTES: 1, TOPIC_NOTES: 1, USER: 1, SHARE: 1}
    assert stats["billed_by_endpoint"] == {
        "feed": 0, "detail": 0, "search": 2, "search_v2": 1, "user_notes": 1, "topic_notes": 1, "user": 1, "share": 1,
    }
    assert stats["discovery_billed_by_request"]["search|keyword|咖啡|general|ALL|ALL|1"] == 2
    assert stats["feed_billed_by_page"] == {} and stats["detail_billed_by_note"] == {}


def test_faults_quota_and_token_apply_to_discovery_too(api):
    api.configure(faults={"301": 1.0}, max_consecutive_faults=1)
    assert get(api, SEARCH, keyword="咖啡")[1]["code"] == 301
    assert get(api, SEARCH, keyword="咖啡")[1]["code"] == 0
    api.configure(faults={}, truncated_rate=1.0)
    url = "%s%s?%s" % (api.url, TOPIC_NOTES, urlencode({"token": TOKEN, "topicId": a_topic(api)}))
    with urllib.request.urlopen(url, timeout=10) as answer, pytest.raises(json.JSONDecodeError):
        json.loads(answer.read())  # a cut-off body: a transport failure, whatever the endpoint
    api.configure(truncated_rate=0, quota=1)
    assert get(api, SEARCH, keyword="咖啡", page=2)[1]["code"] == 303
    api.configure(quota=None)
    url = "%s%s?%s" % (api.url, SEARCH, urlencode({"token": "wrong", "keyword": "咖啡"}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    with refused.value as answer:
        assert (answer.code, json.load(answer)["code"]) == (401, 100)
    assert api.stats()["billed"] == 1


def test_the_lists_follow_from_the_seed(api):
    # The session's sandbox runs seed 0: the same lists built here agree; seed 1's differ.
    def truth(seed: int) -> dict[str, Any]:
        local = SandboxApi(SandboxConfig(token=TOKEN, seed=seed), clock=time.time).discovery
        return local.truth("keyword", "咖啡", {})

    assert api.discovery("keyword", "咖啡")["pages"] == truth(0)["pages"] != truth(1)["pages"]
    with pytest.raises(ValueError, match="kind must be keyword, user, topic, share, creators or topics"):
        api.discovery("bogus")
