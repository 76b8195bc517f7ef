"""The offline Just One API sandbox, exercised over real HTTP on loopback."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from urllib.parse import urlencode

import pytest

from sandbox import SandboxProcess

TOKEN = "tok-Sandbox-Secret-42"
SEED = "7"
PAGES = 3
FEED = "/api/xiaohongshu/get-note-feed/v1"
DETAIL = "/api/xiaohongshu-pgy/get-note-detail/v1"
DETAIL_SUCCESSOR = "/api/xiaohongshu-pgy/api/solar/note/noteId/detail/v1"
BASELINE_CONFIG = {
    "faults": {},
    "malformed_rate": 0,
    "truncated_rate": 0,
    "html_error_rate": 0,
    "max_consecutive_faults": 2,
    "quota": None,
    "rate_limit": None,
    "latency": 0,
    "latency_jitter": 0,
    "unavailable_rate": 0.2,
    "note_codes": {},
}

# Key sets of the examples in the vendor's documentation pages.
ENVELOPE_KEYS = {"code", "data", "message", "recordTime", "requestId"}
FEED_CARD_KEYS = {
    "id", "type", "timestamp", "name", "title", "desc", "likes", "user", "last_update_time",
    "display_title", "images_list", "inlikes", "model_type", "is_ads", "is_tracking", "debug_info_str",
    "is_tracking_upgrade", "has_music", "is_top_show_eco_officer_note", "pk_status_info",
    "advanced_widgets_groups", "widgets_context", "corner_tag", "rec_extra_info", "rec_params",
    "recommend", "dislike_optional", "cursor_score", "app_json_string", "downgrade_data",
    "track_id_mix_rank", "generate_item_index", "rec_result_from_inner_cache",
}
FEED_USER_KEYS = {"nickname", "images", "followed", "fstatus", "userid"}
FEED_IMAGE_KEYS = {
    "height", "width", "url", "original", "fileid", "url_size_large", "trace_id", "url_multi_level",
    "need_load_original_image", "thumb_hash", "rgb",
}
FEED_RECOMMEND_KEYS = {
    "desc", "icon", "type", "dark_icon", "target_id", "target_name", "track_id", "topic_id", "topic_name",
    "mf_topic_id", "mf_topic_name", "topic_type", "topic_sub_type", "is_super_topic", "is_followed_topic",
    "category_id", "category_name", "predict_click_ratio", "predict_video_complete_ratio",
    "is_activate_search", "videofeed_lazy_load_score",
}
DETAIL_KEYS = {
    "noteId", "noteLink", "userId", "headPhoto", "name", "redId", "type", "atUserList", "title", "content",
    "imagesList", "videoInfo", "time", "createTime", "impNum", "likeNum", "favNum", "cmtNum", "readNum",
    "shareNum", "followCnt", "reportBrandUserId", "reportBrandName", "featureTags", "userInfo",
    "compClickData",
}
DETAIL_IMAGE_KEYS = {"fileId", "url", "original", "width", "height", "latitude", "longitude", "traceId", "sticker"}
DETAIL_USER_KEYS = {
    "nickName", "avatar", "userId", "advertiserId", "fansNum", "cooperType", "priceState", "pictureState",
    "picturePrice", "videoState", "videoPrice", "userType", "operateState", "currentLevel", "location",
    "contentTags", "featureTags", "personalTags", "gender", "isCollect", "clickMidNum", "interMidNum",
    "pictureInCart", "videoInCart", "kolType", "mengagementNum", "mEngagementNum",
}
DETAIL_COUNTERS = ("impNum", "likeNum", "favNum", "cmtNum", "readNum", "shareNum", "followCnt")


@pytest.fixture(scope="module")
def sandbox():
    with SandboxProcess("--seed", SEED, "--pages", str(PAGES), "--log-level", "DEBUG", token=TOKEN) as process:
        yield process


@pytest.fixture(autouse=True)
def clean_sandbox(sandbox):
    sandbox.configure(**BASELINE_CONFIG)
    sandbox.reset()


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("Content-Type", ""), error.read()


def api_url(base: str, path: str, token: str | None = TOKEN, **params: object) -> str:
    query = ({"token": token} if token is not None else {}) | {name: str(value) for name, value in params.items()}
    return "%s%s?%s" % (base, path, urlencode(query))


def call(sandbox: SandboxProcess, path: str, token: str | None = TOKEN, **params: object) -> tuple[int, dict]:
    status, _, body = fetch(api_url(sandbox.url, path, token, **params))
    return status, json.loads(body)


def control(sandbox: SandboxProcess, action: str, **params: object) -> dict:
    _, _, body = fetch("%s/__sandbox__/%s?%s" % (sandbox.url, action, urlencode(params)))
    return json.loads(body)


def note_cards(cards: list[dict]) -> list[dict]:
    return [card for card in cards if card["model_type"] == "note" and card.get("id")]


def test_feed_envelope_and_card_shape_match_the_docs(sandbox):
    status, content_type, body = fetch(api_url(sandbox.url, FEED, oid="homefeed_food_v3", page=1))
    assert (status, content_type) == (200, "application/json; charset=utf-8")
    assert "美食".encode() in body and b"\\u" not in body
    envelope = json.loads(body)
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["code"] == 0 and isinstance(envelope["requestId"], str)
    assert 8 <= len(envelope["data"]) <= 12
    card = note_cards(envelope["data"])[0]
    assert set(card) == FEED_CARD_KEYS
    assert set(card["user"]) == FEED_USER_KEYS
    assert set(card["images_list"][0]) == FEED_IMAGE_KEYS
    assert set(card["images_list"][0]["url_multi_level"]) == {"low", "medium", "high"}
    assert set(card["recommend"]) == FEED_RECOMMEND_KEYS
    assert re.fullmatch(r"[0-9a-f]{24}", card["id"]) and card["type"] in ("normal", "video")
    assert isinstance(card["timestamp"], int) and card["timestamp"] < 2e9
    assert json.loads(card["widgets_context"])["author_id"] == card["user"]["userid"]


def test_feed_carries_ads_live_blank_cards_and_display_counters(sandbox):
    cards = [
        card
        for oid in ("homefeed_recommend", "homefeed_food_v3", "homefeed_travel_v3", "homefeed_pets_v3",
                    "homefeed_cars_v3", "homefeed_music_v3", "homefeed_books_v3", "homefeed_hair_v3")
        for page in range(1, PAGES + 1)
        for card in call(sandbox, FEED, oid=oid, page=page)[1]["data"]
    ]
    kinds = Counter(card["model_type"] for card in cards)
    assert kinds["ads"] and kinds["live"] and kinds["note"] > len(cards) * 0.7
    assert all(card["is_ads"] == (card["model_type"] == "ads") for card in cards)
    assert any(not card.get("id") for card in cards)
    likes = [card["likes"] for card in note_cards(cards)]
    assert 0.1 < sum(isinstance(value, str) for value in likes) / len(likes) < 0.35
    assert all(re.fullmatch(r"\d+(\.\d)?万\+?|10\+|\d+", value) for value in likes if isinstance(value, str))
    live_cards = call(sandbox, FEED, oid="homefeed_live")[1]["data"]
    assert sum(card["model_type"] == "live" for card in live_cards) > len(live_cards) / 2


def test_detail_shape_matches_the_docs(sandbox):
    preview = control(sandbox, "notes", oid="homefeed_food_v3", page=1)
    available = [note_id for note_id in preview["note_ids"] if note_id not in preview["unavailable_note_ids"]]
    status, envelope = call(sandbox, DETAIL, noteId=available[0], acceptCache="true")
    assert status == 200 and set(envelope) == ENVELOPE_KEYS and envelope["code"] == 0
    detail = envelope["data"]
    assert set(detail) == DETAIL_KEYS
    assert set(detail["userInfo"]) == DETAIL_USER_KEYS
    assert set(detail["time"]) == {"createTime", "updateTime", "userUpdateTime"}
    assert all(set(image) == DETAIL_IMAGE_KEYS for image in detail["imagesList"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", detail["createTime"])
    assert detail["time"]["createTime"] > 1e12 and detail["compClickData"] is None
    assert all(isinstance(detail[name], int) for name in DETAIL_COUNTERS)
    assert (detail["type"] == 1) == (detail["videoInfo"] is None)


def test_detail_varies_nulls_and_video_info(sandbox):
    details = [call(sandbox, DETAIL, noteId="%024x" % (index * 104729))[1]["data"] for index in range(40)]
    details = [detail for detail in details if detail]
    assert {detail["type"] for detail in details} == {1, 2}
    videos = [detail for detail in details if detail["type"] == 2]
    assert all({"videoId", "duration", "width", "height", "url"} <= set(v["videoInfo"]) for v in videos)
    assert {type(detail["featureTags"]) for detail in details} == {type(None), list}
    assert any("[话题]#" in detail["content"] for detail in details)
    assert any("[话题]#" not in detail["content"] for detail in details)


def test_detail_agrees_with_feed_card_on_both_paths(sandbox):
    cards = note_cards(call(sandbox, FEED, oid="homefeed_travel_v3", page=2)[1]["data"])
    sandbox.configure(unavailable_rate=0)
    for card in cards:
        detail = call(sandbox, DETAIL, noteId=card["id"])[1]["data"]
        assert detail["title"] == card["title"]
        assert (detail["userId"], detail["userInfo"]["nickName"]) == (card["user"]["userid"], card["user"]["nickname"])
        assert detail["type"] == (2 if card["type"] == "video" else 1)
        assert detail["time"]["createTime"] == card["timestamp"] * 1000
        assert card["images_list"][0]["fileid"].endswith(detail["imagesList"][0]["fileId"])
        successor = call(sandbox, DETAIL_SUCCESSOR, noteId=card["id"])[1]["data"]
        # Asked a second time, its engagement has grown; nothing else changes.
        assert successor["likeNum"] > detail["likeNum"]
        counters = ("likeNum", "favNum", "cmtNum", "shareNum", "readNum", "impNum")
        assert {k: v for k, v in successor.items() if k not in counters} == {
            k: v for k, v in detail.items() if k not in counters
        }


@pytest.mark.integration
def test_same_seed_gives_same_data_and_another_seed_differs(sandbox):
    feed = call(sandbox, FEED, oid="homefeed_pets_v3", page=2)[1]["data"]
    note_id = note_cards(feed)[0]["id"]
    detail = call(sandbox, DETAIL, noteId=note_id)[1]
    with SandboxProcess("--seed", SEED, "--pages", str(PAGES), "--unavailable-rate", "0.2", token=TOKEN) as twin:
        assert call(twin, FEED, oid="homefeed_pets_v3", page=2)[1]["data"] == feed
        assert call(twin, DETAIL, noteId=note_id)[1]["data"] == detail["data"]
    with SandboxProcess("--seed", "8", "--pages", str(PAGES), token=TOKEN) as other:
        assert call(other, FEED, oid="homefeed_pets_v3", page=2)[1]["data"] != feed
    assert twin.returncode == other.returncode == 0


def test_notes_overlap_across_channels_and_preview_matches_feed(sandbox):
    channels = control(sandbox, "channels")["channels"]
    assert len(channels) == 41
    seen_in: dict[str, set[str]] = {}
    for oid in channels:
        for page in range(1, PAGES + 1):
            for note_id in control(sandbox, "notes", oid=oid, page=page)["note_ids"]:
                seen_in.setdefault(note_id, set()).add(oid)
    shared = sum(len(channels_of_note) > 1 for channels_of_note in seen_in.values())
    assert 0.05 < shared / len(seen_in) < 0.5
    feed = call(sandbox, FEED, oid="homefeed_recommend", page=1)[1]["data"]
    assert [card["id"] for card in note_cards(feed)] == control(sandbox, "notes")["note_ids"]
    assert sandbox.stats()["calls"] == 1


def test_pages_beyond_the_end_are_empty_and_bad_pages_rejected(sandbox):
    status, envelope = call(sandbox, FEED, oid="homefeed_food_v3", page=PAGES + 1)
    assert (status, envelope["code"], envelope["data"]) == (200, 0, [])
    assert call(sandbox, FEED, page=0)[1]["code"] == 400
    assert call(sandbox, FEED, page="abc")[1]["code"] == 400


def test_missing_or_wrong_token_is_401_with_code_100(sandbox):
    for token in (None, "wrong-token"):
        status, envelope = call(sandbox, FEED, token=token)
        assert (status, envelope["code"], envelope["data"]) == (401, 100, None)
        assert set(envelope) == ENVELOPE_KEYS
    assert sandbox.stats()["billed"] == 0


def test_bad_oid_and_note_ids_are_code_400(sandbox):
    assert call(sandbox, FEED, oid="homefeed_nothing")[1]["code"] == 400
    for note_id in ("XYZ", "67F32A94000000001D02EB4A", "67f32a94000000001d02eb4", None):
        params = {} if note_id is None else {"noteId": note_id}
        status, envelope = call(sandbox, DETAIL, **params)
        assert (status, envelope["code"]) == (200, 400)
    assert sandbox.stats()["billed"] == 0


def test_note_codes_answer_every_call_of_the_same_notes(sandbox):
    sandbox.configure(note_codes={"400": 0.3, "503": 0.2}, faults={"301": 0.5})
    preview = control(sandbox, "notes", oid="homefeed_food_v3", page=1)
    coded = preview["note_ids_by_code"]
    assert coded["400"] and coded["503"] and not set(coded["400"]) & set(coded["503"])
    for note_id in preview["note_ids"]:
        expected = [code for code, ids in coded.items() if note_id in ids]
        for _ in range(2):  # a retry gets the same answer, whatever the faults drawn
            status, envelope = call(sandbox, DETAIL, noteId=note_id)
            if expected:
                assert (status, envelope["code"]) == ((200, 400) if expected == ["400"] else (503, 503))
    stats = sandbox.stats()
    assert set(stats["detail_calls_by_note"].values()) == {2}
    assert not set(stats["detail_billed_by_note"]) & set(coded["400"] + coded["503"])
    with pytest.raises(ValueError, match="billed codes"):
        sandbox.configure(note_codes={"201": 0.1})


def test_quota_answers_303_after_n_billed_calls(sandbox):
    sandbox.configure(quota=3)
    codes = [call(sandbox, FEED, page=page)[1]["code"] for page in (1, 2, 3, 4, 1)]
    assert codes == [0, 0, 0, 303, 303]
    stats = sandbox.stats()
    assert (stats["calls"], stats["billed"], stats["codes"]) == (5, 3, {"0": 3, "303": 2})


def test_rate_limit_answers_302_and_does_not_bill(sandbox):
    sandbox.configure(rate_limit=2)
    codes = Counter(call(sandbox, FEED)[1]["code"] for _ in range(8))
    assert codes[0] >= 2 and codes[302] >= 1
    assert sandbox.stats()["billed"] == codes[0]


def classify(status: int, content_type: str, body: bytes) -> str:
    try:
        envelope = json.loads(body)
    except ValueError:
        return "html" if content_type.startswith("text/html") else "broken"
    return "ok" if envelope["code"] == 0 else "code"


def test_faults_never_exceed_max_consecutive(sandbox):
    sandbox.configure(
        faults={"301": 0.3, "500": 0.2}, malformed_rate=0.15, truncated_rate=0.15, html_error_rate=0.15,
        max_consecutive_faults=2, unavailable_rate=0,
    )
    outcomes: Counter[str] = Counter()
    for page in range(1, PAGES + 1):
        url = api_url(sandbox.url, FEED, oid="homefeed_food_v3", page=page)
        for attempt in range(1, 4):  # noqa: B007 - reported after the loop
            outcome = classify(*fetch(url))
            outcomes[outcome] += 1
            if outcome == "ok":
                break
        assert outcome == "ok", "attempt %d of page %d still failed" % (attempt, page)
    for note_id in control(sandbox, "notes", oid="homefeed_food_v3", page=1)["note_ids"]:
        url = api_url(sandbox.url, DETAIL, noteId=note_id)
        results = [classify(*fetch(url)) for _ in range(3)]
        outcomes.update(results)
        assert "ok" in results
    stats = sandbox.stats()
    assert outcomes["ok"] == stats["billed"] == stats["codes"]["0"]
    assert sum(stats["http_faults"].values()) == outcomes["html"] + outcomes["broken"]
    assert outcomes["code"] and outcomes["broken"] and outcomes["html"]


def test_certain_faults_give_way_after_exactly_k_in_a_row(sandbox):
    sandbox.configure(faults={"301": 0.5}, malformed_rate=0.5, max_consecutive_faults=3)
    url = api_url(sandbox.url, FEED, page=2)
    outcomes = [classify(*fetch(url)) for _ in range(8)]
    assert [outcome == "ok" for outcome in outcomes] == [False, False, False, True] * 2


def test_injected_500_answers_with_http_500_or_200(sandbox):
    sandbox.configure(faults={"500": 1.0}, max_consecutive_faults=100)
    statuses = Counter(call(sandbox, FEED, page=1)[0] for _ in range(24))
    assert set(statuses) == {200, 500}
    assert sandbox.stats()["billed"] == 0


def test_billing_counts_only_codes_0_and_201(sandbox):
    preview = control(sandbox, "notes", oid="homefeed_recommend", page=1)
    unavailable = preview["unavailable_note_ids"]
    assert unavailable, "seed 7 should have an unavailable note on this page"
    available = [note_id for note_id in preview["note_ids"] if note_id not in unavailable]
    status, envelope = call(sandbox, DETAIL, noteId=unavailable[0])
    assert (status, envelope["code"], envelope["data"]) == (200, 201, None)
    assert call(sandbox, DETAIL, noteId=available[0])[1]["code"] == 0
    assert call(sandbox, DETAIL, noteId=available[0])[1]["code"] == 0
    call(sandbox, FEED, page=1)
    call(sandbox, FEED, token="nope")
    call(sandbox, DETAIL, noteId="bad")
    sandbox.configure(faults={"301": 1.0}, max_consecutive_faults=1)
    assert call(sandbox, FEED, page=2)[1]["code"] == 301
    sandbox.configure(faults={"201": 1.0})
    assert call(sandbox, DETAIL, noteId=available[1])[1]["code"] == 201
    stats = sandbox.stats()
    assert stats["calls"] == 8 and stats["billed"] == 5
    assert stats["calls_by_endpoint"] == {"feed": 3, "detail": 5}
    assert stats["billed_by_endpoint"] == {"feed": 1, "detail": 4}
    assert stats["detail_billed_by_note"] == {unavailable[0]: 1, available[0]: 2, available[1]: 1}
    assert stats["feed_billed_by_page"] == {"homefeed_recommend:1": 1}
    assert stats["codes"] == {"0": 3, "201": 2, "100": 1, "400": 1, "301": 1}


def test_unknown_path_is_404_envelope(sandbox):
    status, _, body = fetch(sandbox.url + "/api/xiaohongshu/unknown/v1?token=" + TOKEN)
    envelope = json.loads(body)
    assert (status, envelope["code"], set(envelope)) == (404, 404, ENVELOPE_KEYS)
    assert sandbox.stats()["calls"] == 0


def test_config_never_echoes_the_token_and_rejects_bad_values(sandbox):
    config = sandbox.configure(latency=0)
    assert "token" not in config and TOKEN not in json.dumps(config)
    with pytest.raises(ValueError):
        sandbox.configure(malformed_rate=2)
    with pytest.raises(ValueError):
        sandbox.configure(no_such_setting=1)


def test_latency_delays_answers(sandbox):
    sandbox.configure(latency=0.3)
    started = time.monotonic()
    assert call(sandbox, FEED)[1]["code"] == 0
    assert time.monotonic() - started >= 0.3


def test_token_never_appears_in_the_log(sandbox):
    call(sandbox, FEED, page=1)
    call(sandbox, DETAIL, noteId="bad")
    sandbox.configure(token=TOKEN)
    log = sandbox.read_log()
    assert "token=***" in log
    assert TOKEN not in log


@pytest.mark.integration
def test_a_sandbox_that_cannot_start_says_why_and_leaves_no_process():
    failing = SandboxProcess("--pages", "many", token=TOKEN)
    with pytest.raises(RuntimeError, match=r"(?s)sandbox did not start.*invalid int value: 'many'"):
        failing.start()
    # argparse's exit status, collected: the child is gone, its pipe closed.
    assert failing.returncode == 2
    assert failing.log_path.exists()  # kept after a failure, to be read post mortem
    failing.log_path.unlink()


@pytest.mark.integration
def test_a_sandbox_stopped_cleanly_removes_its_log():
    with SandboxProcess(token=TOKEN) as running:
        log_path = running.log_path
        assert running.port and running.url == f"http://127.0.0.1:{running.port}"
        assert running.stats()["calls"] == 0  # the port it took answers
    assert running.returncode == 0
    assert not log_path.exists()
