"""CommentItem matches its schema, and the schema refuses what the store could
not key or the exports could not read; raw answers name comment and share pages."""

from __future__ import annotations

import pytest

from tests.comment_items import comment, reply
from tests.source_items import raw_answer
from xhs_spider.pipelines.validation import schema_errors


@pytest.mark.parametrize("make", [comment, reply], ids=lambda make: make.__name__)
def test_a_valid_comment_has_no_schema_error(make):
    assert schema_errors(make()) == []


@pytest.mark.parametrize("change", [
    {"comment_id": ""},
    {"note_id": "x"},
    {"parent_id": ""},
    {"level": 3},
    {"likes": -1},
    {"reply_count": -1},
    {"fetched_at": "2026-11-22"},
    {"created_at": "2026-11-22T00:00:00+08:00"},
    {"sort": "like_count"},
    {"endpoint": ""},
    {"author": {"user_id": ""}},
])
def test_the_comment_schema_refuses_a_bad_value(change):
    item = comment()
    item.update(change)
    assert schema_errors(item)


def test_nulls_a_comment_answer_may_leave_are_accepted():
    item = comment(author=None, likes=None, likes_text=None, created_at=None, ip_location=None, reply_count=None)
    assert schema_errors(item) == []


@pytest.mark.parametrize("kind", ["note", "share"])
def test_raw_answers_of_comment_pages_and_share_links_are_accepted(kind):
    assert schema_errors(raw_answer(source_kind=kind, source_value="680000000000000000000c01")) == []
    assert schema_errors(raw_answer(source_kind="comment"))
