"""The items of the discovery sources match their schemas, and the schemas
refuse what the store could not key or the exports could not read."""

from __future__ import annotations

import pytest

from tests.source_items import creator, raw_answer, source_appearance
from xhs_spider.pipelines.validation import schema_errors


@pytest.mark.parametrize("make", [source_appearance, creator, raw_answer], ids=lambda make: make.__name__)
def test_a_valid_item_has_no_schema_error(make):
    assert schema_errors(make()) == []


@pytest.mark.parametrize(("make", "change"), [
    (source_appearance, {"source_kind": "channel"}),
    (source_appearance, {"source_value": ""}),
    (source_appearance, {"rank": 0}),
    (source_appearance, {"note_id": "x"}),
    (source_appearance, {"type": "audio"}),
    (source_appearance, {"author": {"user_id": ""}}),
    (creator, {"followers": -1}),
    (creator, {"fetched_at": "2026-11-22"}),
    (creator, {"raw": None}),
    (raw_answer, {"reason": "other"}),
    (raw_answer, {"body": None}),
    (raw_answer, {"page": 0}),
])
def test_the_schema_refuses_a_bad_value(make, change):
    item = make()
    item.update(change)
    assert schema_errors(item)


def test_nulls_the_answers_may_leave_are_accepted():
    item = source_appearance(type=None, likes=None, likes_text=None, author=None, cursor="c 1/2")
    assert schema_errors(item) == []
    assert schema_errors(creator(nickname=None, followers=None, request_id=None, avatar=None)) == []
