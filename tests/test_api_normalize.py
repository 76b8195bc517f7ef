import json
from pathlib import Path

import pytest

from xhs_spider.api.normalize import (
    card_fields,
    hashtags,
    note_fields,
    parse_counter,
    skip_reason,
    utc_iso,
)
from xhs_spider.items import FeedAppearanceItem, NoteItem

DATA = Path(__file__).parent / "data"


def example(name):
    return json.loads((DATA / name).read_text("utf-8"))["data"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (4, 4),
        ("3456", 3456),
        ("1.2万", 12000),
        ("10+", 10),
        ("1万+", 10000),
        ("2.5w", 25000),
        ("", None),
        ("赞", None),
        (None, None),
        (True, None),
        (-1, None),
    ],
)
def test_parse_counter(raw, expected):
    assert parse_counter(raw) == expected


def test_hashtags_in_order_without_repeats():
    text = "开头 #上海落户[话题]##落户[话题]# 中间 #上海落户[话题]# #普通#"
    assert hashtags(text) == ["上海落户", "落户"]


def test_utc_iso_from_millis():
    assert utc_iso(1743989396000, millis=True) == "2025-04-07T01:29:56.000Z"
    assert utc_iso(1743989396) == "2025-04-07T01:29:56.000Z"
    assert utc_iso(None) is None
    assert utc_iso(0) is None


def test_detail_example_normalises_to_a_valid_note():
    fields = note_fields(example("detail_example.json"), crawled_at="2026-11-22T00:00:00Z", request_id="r1")
    item = NoteItem(fields)
    assert list(item.validator.iter_errors(dict(item))) == []
    assert fields["note_id"] == "67f32a94000000001d02eb4a"
    assert fields["url"] == "https://www.xiaohongshu.com/explore/67f32a94000000001d02eb4a"
    assert fields["type"] == "image"
    assert fields["hashtags"][:2] == ["上海落户", "落户上海"]
    assert len(fields["hashtags"]) == 9
    assert fields["images"][0]["file_id"] == "1040g2sg31g0do7qs0g805pqelmtn360u19eae60"
    assert fields["author"] == {
        "user_id": "674eadbb000000001c01981e",
        "nickname": "地道的豆汁",
        "avatar": fields["author"]["avatar"],
        "fans": 566,
        "gender": "女",
        "location": None,
        "red_id": None,
    }
    assert fields["published_at"] == "2025-04-07T01:29:56.000Z"
    assert fields["counts"]["likes"] == 0


def test_feed_example_card_normalises_to_a_valid_appearance():
    card = example("feed_example.json")[0]
    assert skip_reason(card) is None
    fields = card_fields(card, channel="homefeed_travel_v3", page=1, position=1, crawled_at="2026-11-22T00:00:00Z")
    item = FeedAppearanceItem(fields)
    assert list(item.validator.iter_errors(dict(item))) == []
    assert fields["note_id"] == "699fdc5c000000000e00f4cd"
    assert fields["likes"] == 4 and fields["likes_text"] is None
    assert fields["author"]["nickname"] == "贪玩小晕吖"
    assert fields["category"] == "旅游"
    assert fields["cover"]["file_id"] == "notes_pre_post/1040g3k031t1pl2kf5kc05og0nof8che60g76fco"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"is_ads": True}, "ads"),
        ({"model_type": "live"}, "live"),
        ({"id": ""}, "no_id"),
        ({"id": None}, "no_id"),
    ],
)
def test_non_note_cards_are_skipped_with_a_reason(change, reason):
    card = {**example("feed_example.json")[0], **change}
    assert skip_reason(card) == reason
    assert skip_reason("not a card") == "malformed"


def test_display_counter_keeps_its_text():
    card = {**example("feed_example.json")[0], "likes": "1.2万"}
    fields = card_fields(card, channel="homefeed_food_v3", page=2, position=3, crawled_at="2026-11-22T00:00:00Z")
    assert fields["likes"] == 12000
    assert fields["likes_text"] == "1.2万"
