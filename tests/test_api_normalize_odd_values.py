"""Every odd value the API may send, through normalisation, validation and storage."""

from __future__ import annotations

import json
import time

import pytest
from scrapy.http import TextResponse

from sandbox.faults import ODD_VALUE_KINDS
from sandbox.odd_values import odd_card, odd_detail
from tests.test_api_normalize import example
from xhs_spider.api.envelope import MAX_DEPTH, InvalidBody, cut_deep_nesting, parse_envelope
from xhs_spider.api.normalize import (
    INT64_MAX,
    card_fields,
    counter_text,
    note_fields,
    note_id_of,
    parse_counter,
    skip_reason,
    utc_iso,
)
from xhs_spider.items import FeedAppearanceItem, NoteItem
from xhs_spider.store.values import storable, storable_counter

NOTE_ID = "67f32ab4000000001c0394f0"
SECONDS = 1743989396
ISO = "2025-04-07T01:29:56.000Z"


@pytest.mark.parametrize(
    ("raw", "expected", "text"),
    [
        (INT64_MAX, INT64_MAX, None),
        (INT64_MAX + 1, None, str(INT64_MAX + 1)),
        (10**20, None, "100000000000000000000"),
        (1e300, None, "1e+300"),
        (float("inf"), None, "inf"),
        (float("-inf"), None, "-inf"),
        (float("nan"), None, "nan"),
        ("99999999999999999999", None, "99999999999999999999"),
        ("9" * 400, None, "9" * 400),
        ("1.2万", 12000, "1.2万"),
        (12.0, 12, "12.0"),
    ],
)
def test_counters_beyond_64_bits_or_not_finite_are_null_with_their_text(raw, expected, text):
    assert parse_counter(raw) == expected
    assert counter_text(raw) == text


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (SECONDS, ISO),
        (SECONDS * 1000, ISO),
        (SECONDS * 1_000_000, ISO),
        (float(SECONDS), ISO),
        (SECONDS * 10**9, None),  # nanoseconds: beyond 1e17, not inferred
        (32_503_680_000, None),  # the year 3000
        (1, None),  # 1970: before 2004
        (-SECONDS, None),
        pytest.param(10**400, None, id="401-digits"),
        (float("inf"), None),
        (float("nan"), None),
        ("1743989396", None),
        (True, None),
    ],
)
def test_timestamp_unit_inferred_and_implausible_times_rejected(epoch, expected):
    assert utc_iso(epoch) == expected
    assert utc_iso(epoch, millis=True) == expected


def test_a_time_a_day_ahead_is_rejected_one_hour_ahead_kept():
    assert utc_iso(int(time.time()) + 3600) is not None
    assert utc_iso(int(time.time()) + 2 * 86400) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (NOTE_ID, NOTE_ID), (NOTE_ID + "\n", NOTE_ID), (f" \t{NOTE_ID} ", NOTE_ID),
        (NOTE_ID.upper(), None), (NOTE_ID + "0", None), (NOTE_ID[:-1] + "\n", None), (123, None),
    ],
)
def test_note_ids_are_stripped_then_exactly_24_lowercase_hex(raw, expected):
    assert note_id_of(raw) == expected


def feed_card() -> dict:
    return example("feed_example.json")[0]


def appearance(card: dict) -> tuple[dict, list[str]]:
    assert skip_reason(card) is None
    rejected: list[str] = []
    fields = card_fields(card, channel="homefeed_food_v3", page=1, position=1,
                         crawled_at="2026-11-22T00:00:00.000Z", rejected=rejected)
    assert list(FeedAppearanceItem(fields).validator.iter_errors(fields)) == []
    return fields, rejected


def note(detail: dict) -> tuple[dict, list[str]]:
    rejected: list[str] = []
    fields = note_fields(detail, crawled_at="2026-11-22T00:00:00.000Z", request_id="r",
                         rejected=rejected)
    assert list(NoteItem(fields).validator.iter_errors(fields)) == []
    return fields, rejected


#: kind → (field of the appearance, its value, rejected fields of the card;
#: field of the note, its value, rejected fields of the detail). ``...``: any.
EXPECTED = {
    "surrogate": ("title", "\ufffd", [], "title", "\ufffd", []),
    "huge_int": ("likes_text", "100000000000000000000", ["likes"], "counts.likes", None, ["counts.likes"]),
    "huge_float": ("likes_text", "1e+300", ["likes"], "counts.likes", None, ["counts.likes"]),
    "infinity": ("likes_text", "inf", ["likes"], "counts.likes", None, ["counts.likes"]),
    "nan": ("likes_text", "nan", ["likes"], "counts.likes", None, ["counts.likes"]),
    "numeric_string": ("likes", None, ["likes"], "counts.likes", None, ["counts.likes"]),
    "ms_timestamp": ("published_at", ..., [], "published_at", ..., []),
    "us_timestamp": ("published_at", ..., [], "published_at", ..., []),
    "absurd_timestamp": ("published_at", None, ["published_at"], "published_at", None, ["published_at"]),
    "id_whitespace": ("note_id", ..., [], "note_id", ..., []),
    "deep_nesting": ("category", None, [], "title", ..., []),
}


def field(fields: dict, path: str):
    for part in path.split("."):
        fields = fields[part]
    return fields


def test_every_sandbox_kind_is_covered():
    assert set(EXPECTED) == set(ODD_VALUE_KINDS)


def assert_normalised(got, good, expected):
    """*expected*: ``...`` the good value kept, U+FFFD a repaired string, else the value."""
    if expected is ...:
        assert got == good
    elif expected == "\ufffd":
        assert got.endswith("\ufffd")
    else:
        assert got == expected


@pytest.mark.parametrize("kind", ODD_VALUE_KINDS)
def test_an_odd_card_is_normalised_or_rejected_field_by_field(kind):
    card = feed_card()
    good, _ = appearance(card)
    odd = odd_card(card, kind)
    if kind == "deep_nesting":
        odd["recommend"] = None  # what the parser leaves of it (see the envelope tests)
    fields, rejected = appearance(odd)
    name, value, expected_rejected = EXPECTED[kind][:3]
    assert_normalised(field(fields, name), field(good, name), value)
    assert rejected == expected_rejected


@pytest.mark.parametrize("kind", ODD_VALUE_KINDS)
def test_an_odd_detail_is_normalised_or_rejected_field_by_field(kind):
    detail = example("detail_example.json")
    good, _ = note(detail)
    odd = odd_detail(detail, kind)
    if kind == "deep_nesting":
        odd["featureTags"] = None
    fields, rejected = note(odd)
    name, value, expected_rejected = EXPECTED[kind][3:]
    assert_normalised(field(fields, name), field(good, name), value)
    assert rejected == expected_rejected
    assert {key: value for key, value in fields.items() if key not in ("title", "counts", "published_at")} == {
        key: value for key, value in good.items() if key not in ("title", "counts", "published_at")
    }


def test_non_string_values_where_strings_belong_are_null():
    card = {**feed_card(), "display_title": {"a": 1}, "title": 5, "user": {"userid": "u", "nickname": [1]}}
    fields, _ = appearance(card)
    assert fields["title"] == "" and fields["author"]["nickname"] is None


def response(body: bytes) -> TextResponse:
    return TextResponse("https://api.example/x", body=body, encoding="utf-8")


def test_a_body_nested_100000_levels_deep_keeps_everything_above_the_cut():
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"code":0,"data":[{"id":"a","deep":%s,"s":"[[{"},{"id":"b"}],"requestId":"r"}' % deep
    envelope = parse_envelope(response(body.encode()))
    assert envelope.data[1] == {"id": "b"} and envelope.data[0]["s"] == "[[{"
    value, levels = envelope.data[0]["deep"], 0
    while isinstance(value, list):
        value, levels = value[0] if value else None, levels + 1
    assert levels == MAX_DEPTH - 3  # the envelope, the card list and the card are three


def test_unbalanced_deep_nesting_is_an_invalid_body():
    with pytest.raises(InvalidBody):
        parse_envelope(response(b'{"code":0,"data":' + b"[" * 100_000))


def test_cut_deep_nesting_leaves_shallow_json_and_strings_alone():
    text = '{"a":[1,{"b":"]}[{\\"x"}],"c":[[[]]]}'
    assert cut_deep_nesting(text, 10) == text
    assert json.loads(cut_deep_nesting(text, 2)) == {"a": [1, None], "c": [None]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a\ud83db", "a\ufffdb"),
        (10**20, "100000000000000000000"),
        (-(10**20), "-100000000000000000000"),
        (float("nan"), None),
        (float("inf"), None),
        ((1, "x"), [1, "x"]),
        ({"k\udc00": [float("-inf")]}, {"k\ufffd": [None]}),
        pytest.param(10**5000, None, id="5001-digits"),
    ],
)
def test_storable_values(value, expected):
    assert storable(value) == expected
    json.dumps(storable(value), allow_nan=False, ensure_ascii=False).encode("utf-8")


def test_storable_cuts_deep_nesting_and_counters_beyond_64_bits():
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    json.dumps(storable(deep))
    assert storable_counter(10**20) is None and storable_counter(7) == 7
    assert storable_counter(float("nan")) is None and storable_counter("7") is None
