"""Paging a source: cursors go back to the API as they came, and the trail
stops on an empty page, on has_more false, on a cursor that does not advance
or comes round again, and at the pages asked for, saying why."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy import Request

from xhs_spider.api.discovery import DiscoveryPage, read_page
from xhs_spider.api.paging import (
    STOP_CURSOR_REPEATED,
    STOP_EMPTY,
    STOP_NO_CURSOR,
    STOP_NO_MORE,
    STOP_PAGES,
    STOP_REASONS,
    STOP_SAME_CURSOR,
    STOP_SAME_PAGE,
    STOP_UNREADABLE,
    PageTrail,
    page_query,
)

CURSORS = [
    "eyJjIjoxfQ==", "a+b/c=d", "a b", "100%", "x&y=z", "游标+1", "+", "/", "=", "#frag", "?q",
]


@pytest.mark.parametrize("cursor", CURSORS)
def test_a_cursor_goes_back_byte_for_byte(cursor):
    query = page_query({"userId": "5ff0e6410000000001008400"}, "lastCursor", cursor)
    assert parse_qs(query) == {"userId": ["5ff0e6410000000001008400"], "lastCursor": [cursor]}
    # Scrapy's URL handling leaves the encoding alone.
    url = Request(f"https://api.example/api/x?{query}").url
    assert parse_qs(urlsplit(url).query)["lastCursor"] == [cursor]


def test_a_plus_is_sent_encoded_not_as_a_space():
    query = page_query({"topicId": "t", "sort": "hot"}, "cursor", "a+b/c=")
    assert query == "topicId=t&sort=hot&cursor=a%2Bb%2Fc%3D"


def test_the_first_page_has_no_cursor_parameter():
    assert page_query({"keyword": "咖啡 豆", "page": 1}) == "keyword=%E5%92%96%E5%95%A1+%E8%B1%86&page=1"
    assert page_query({"userId": "u"}, "lastCursor", None) == "userId=u"
    with pytest.raises(ValueError, match="name of its query parameter"):
        page_query({"userId": "u"}, None, "c")


NOTE_IDS = [f"6cd{index:021x}" for index in range(200)]


def page(first: int, count: int = 3, **paging: Any) -> DiscoveryPage:
    """A page of *count* notes from NOTE_IDS[first], read as the API would send it."""
    return read_page({"notes": [{"id": NOTE_IDS[first + i], "title": "t"} for i in range(count)],
                      **paging})


def test_an_empty_page_stops():
    trail = PageTrail(10, by_cursor=True)
    assert trail.follow(page(0, cursor="A")) is None
    assert trail.follow(page(3, count=0, cursor="B", has_more=True)) == STOP_EMPTY
    assert (trail.pages_read, trail.stopped) == (2, STOP_EMPTY)


def test_has_more_false_stops_even_with_a_new_cursor():
    trail = PageTrail(10, by_cursor=True)
    assert trail.follow(page(0, cursor="A", has_more=False)) == STOP_NO_MORE


def test_a_cursor_that_does_not_advance_stops():
    trail = PageTrail(10, by_cursor=True)
    assert trail.follow(page(0, cursor="A")) is None
    assert trail.cursor == "A"
    assert trail.follow(page(3, cursor="A")) == STOP_SAME_CURSOR
    assert trail.cursor == "A"


def test_a_cycle_a_b_a_stops_before_asking_for_a_again():
    trail = PageTrail(10, by_cursor=True)
    asked = [trail.cursor]
    for first, cursor in [(0, "A"), (3, "B")]:
        assert trail.follow(page(first, cursor=cursor)) is None
        asked.append(trail.cursor)
    assert trail.follow(page(6, cursor="A")) == STOP_CURSOR_REPEATED
    assert asked == [None, "A", "B"]


def test_the_pages_asked_for_stop_it():
    trail = PageTrail(3, by_cursor=True)
    assert [trail.follow(page(3 * i, cursor=f"c{i}")) for i in range(3)] == [None, None, STOP_PAGES]
    assert trail.pages_read == 3


def test_more_to_read_without_a_cursor_stops():
    trail = PageTrail(10, by_cursor=True)
    assert trail.follow(page(0, has_more=True)) == STOP_NO_CURSOR


def test_an_unreadable_answer_stops():
    trail = PageTrail(10, by_cursor=True)
    assert trail.follow(read_page({"unknown": "shape"})) == STOP_UNREADABLE


def test_the_same_notes_again_stop_it():
    trail = PageTrail(10, by_cursor=False)
    assert trail.follow(page(0)) is None
    assert trail.follow(page(1, count=2)) == STOP_SAME_PAGE


def test_page_numbers_ignore_cursors():
    trail = PageTrail(4, by_cursor=False)
    numbers = []
    while (stop := trail.follow(page(3 * trail.pages_read, cursor="same"))) is None:
        numbers.append(trail.next_page)
    assert (numbers, stop, trail.cursor) == ([2, 3, 4], STOP_PAGES, None)


def test_a_stopped_trail_stays_stopped():
    trail = PageTrail(10, by_cursor=True)
    assert trail.follow(page(0, has_more=False)) == STOP_NO_MORE
    assert trail.follow(page(3, cursor="B")) == STOP_NO_MORE
    assert (trail.pages_read, trail.cursor) == (1, None)


def test_a_resumed_trail_never_asks_for_its_first_cursor_again():
    trail = PageTrail(10, by_cursor=True, cursor="A")
    assert trail.follow(page(0, cursor="A")) == STOP_SAME_CURSOR
    trail = PageTrail(10, by_cursor=True, cursor="A")
    assert trail.follow(page(0, cursor="B")) is None
    assert trail.follow(page(3, cursor="A")) == STOP_CURSOR_REPEATED


def test_pages_must_be_positive():
    with pytest.raises(ValueError, match="pages=0"):
        PageTrail(0, by_cursor=True)


def test_random_apis_never_get_a_cursor_twice_nor_more_pages_than_asked():
    rng = random.Random(20)
    for _ in range(1000):
        pages = rng.randint(1, 12)
        trail = PageTrail(pages, by_cursor=True)
        asked: list[str | None] = [None]
        while True:
            answer = page(rng.randrange(190), count=rng.choice([0, 1, 3, 3, 3]),
                          cursor=rng.choice(["A", "B", "C", "D", "E", "", None]),
                          has_more=rng.choice([True, True, True, None, False]))
            stop = trail.follow(answer)
            if stop is not None:
                break
            asked.append(trail.cursor)
        assert stop in STOP_REASONS
        assert len(asked) == len(set(asked)) <= pages
        assert trail.pages_read == len(asked)
