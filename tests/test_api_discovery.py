"""Discovery answers read whatever their shape: the notes of a page in order,
the next cursor, has_more, and whether anything was recognisable at all."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from xhs_spider.api.discovery import SKIP_REASONS, DiscoveryPage, read_page

IDS = [f"6ab{index:021x}" for index in range(1, 40)]


def app_note(index: int, **extra: Any) -> dict[str, Any]:
    """A note as the app's search and creator lists send it."""
    return {
        "id": IDS[index], "title": f"title {index}", "desc": "…", "type": "normal",
        "liked_count": index * 10, "user": {"userid": f"user{index}", "nickname": f"nick {index}"},
        **extra,
    }


def ids(page: DiscoveryPage) -> list[str]:
    return [note.note_id for note in page.notes]


THREE = [app_note(0), app_note(1), app_note(2)]


def web_card(index: int) -> dict[str, Any]:
    """A note as the website's search sends it: the id outside its card."""
    return {
        "id": IDS[index], "model_type": "note", "xsec_token": "AB+c=",
        "note_card": {
            "display_title": f"title {index}", "type": "video",
            "interact_info": {"liked_count": "1.2万"},
            "user": {"user_id": f"user{index}", "nick_name": f"nick {index}"},
        },
    }


@pytest.mark.parametrize("data", [
    THREE,
    {"items": THREE},
    {"notes": THREE},
    {"note_list": THREE, "has_more": True},
    {"data": {"items": THREE}},
    {"data": {"notes": THREE}},
    {"result": {"whatever": THREE}},
    {"items": [{"model_type": "note", "note": note} for note in THREE]},
    {"items": [{"model_type": "note", "noteCard": note} for note in THREE]},
    {"items": [web_card(0), web_card(1), web_card(2)]},
    {"data": {"items": [{"model_type": "note", "note": note} for note in THREE]}},
], ids=["list", "items", "notes", "note_list", "data.items", "data.notes", "unknown keys",
        "model_type wrapper", "noteCard wrapper", "note_card", "data.items wrapped"])
def test_every_shape_gives_the_notes_in_order(data):
    page = read_page(data)
    assert ids(page) == IDS[:3]
    assert [note.rank for note in page.notes] == [1, 2, 3]
    assert [note.title for note in page.notes] == ["title 0", "title 1", "title 2"]
    assert [note.author_id for note in page.notes] == ["user0", "user1", "user2"]
    assert [note.author_nickname for note in page.notes] == ["nick 0", "nick 1", "nick 2"]
    assert page.readable
    assert page.skipped == {}


def test_a_note_card_gives_its_fields():
    (note,) = read_page({"items": [web_card(5)]}).notes
    assert (note.note_id, note.type, note.likes, note.likes_text) == (IDS[5], "video", 12000, "1.2万")
    assert note.raw["xsec_token"] == "AB+c="  # the whole entry, wrapper included


def test_ads_and_entries_that_are_no_note_are_skipped_and_counted():
    entries = [
        {"model_type": "ads", "ads": {"id": 1}},
        app_note(0),
        {"model_type": "note", "note": app_note(1, is_ads=True)},
        {"model_type": "live", "id": IDS[9]},
        {"model_type": "hot_query", "queries": []},
        {"id": IDS[10], "name": "旅行", "type": "topic", "view_num": 5},  # a hash tag
        {"id": IDS[11], "nickname": "someone", "red_id": "123", "fans": "1万"},  # a user
        {"id": IDS[12], "name": "旅行"},  # nothing of a note
        "a string", None, 42, ["a list"],
        app_note(2, id="not an id"),
        app_note(3),
    ]
    page = read_page({"items": entries})
    assert ids(page) == [IDS[0], IDS[3]]
    assert [(note.rank, note.position) for note in page.notes] == [(1, 2), (2, 14)]
    assert page.skipped == {"ads": 2, "live": 1, "other": 4, "malformed": 4, "no_id": 1}
    assert set(page.skipped) <= set(SKIP_REASONS)


def test_the_list_with_the_most_notes_wins():
    data = {
        "hash_tags": [{"id": IDS[20], "name": "咖啡", "type": "hash_tag"}],
        "users": [{"id": IDS[21], "nickname": "x", "red_id": "1"}],
        "query_notes": [app_note(7)],
        "notes": THREE,
    }
    assert ids(read_page(data)) == IDS[:3]


def test_an_empty_list_under_a_usual_key_is_a_readable_empty_page():
    for data in ([], {"items": []}, {"data": {"notes": []}}, {"notes": [], "has_more": False}):
        page = read_page(data)
        assert (page.notes, page.readable) == ((), True), data


@pytest.mark.parametrize("data", [
    None, {}, "text", 5, True, {"foo": 1}, {"items": [{"x": 1}, {"y": 2}]},
    {"result": None}, {"data": None}, {"items": None}, [[], [[]]], {"data": {"data": {"items": []}}},
])
def test_an_answer_with_nothing_recognisable_is_unreadable(data):
    page = read_page(data)
    assert not page.readable
    assert (page.notes, page.cursor, page.has_more) == ((), None, None)


def test_paging_fields_alone_make_an_answer_readable():
    assert read_page({"has_more": False}).readable
    assert read_page({"cursor": "x"}).readable
    # A page of ads only is still a page.
    assert read_page({"items": [{"model_type": "ads"}]}).readable


# Counters --------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "likes", "text", "rejected"), [
    ({"liked_count": 123}, 123, None, ()),
    ({"liked_count": "123"}, 123, "123", ()),
    ({"liked_count": "1.2万"}, 12000, "1.2万", ()),
    ({"liked_count": "10+"}, 10, "10+", ()),
    ({"liked_count": "1万+"}, 10000, "1万+", ()),
    ({"likes": 7}, 7, None, ()),
    ({"interact_info": {"liked_count": "3千"}, "liked_count": 1}, 3000, "3千", ()),
    ({"interact_info": None, "likes": "5"}, 5, "5", ()),
    ({"interact_info": {"liked_count": None}, "likes": 6}, 6, None, ()),
    ({"interactInfo": {"likedCount": "2w"}}, 20000, "2w", ()),
    ({"liked_count": None}, None, None, ()),
    ({}, None, None, ()),
    ({"liked_count": "赞"}, None, "赞", ("likes",)),
    ({"liked_count": -5}, None, "-5", ("likes",)),
    ({"liked_count": 10**20}, None, str(10**20), ("likes",)),
    ({"liked_count": 1e300}, None, "1e+300", ("likes",)),
    ({"liked_count": True}, None, None, ("likes",)),
    ({"liked_count": {"n": 1}}, None, None, ("likes",)),
])
def test_likes_as_a_number_and_as_the_apis_text(fields, likes, text, rejected):
    note = {"id": IDS[0], "title": "t", **fields}
    (found,) = read_page([note]).notes
    assert (found.likes, found.likes_text, found.rejected) == (likes, text, rejected)


# Missing fields, nulls, odd types ---------------------------------------------


def test_a_note_with_only_an_id_and_a_title():
    (note,) = read_page({"notes": [{"id": IDS[0], "title": "t"}]}).notes
    assert (note.note_id, note.title, note.type, note.likes) == (IDS[0], "t", None, None)
    assert (note.author_id, note.author_nickname) == (None, None)


def test_nulls_everywhere_leave_the_note_readable():
    entries = [
        {"model_type": "note", "note": None, "id": IDS[0], "title": None, "display_title": None,
         "user": None, "interact_info": None, "type": None, "cursor": None},
        {"id": IDS[1], "note_card": {"user": {"user_id": None, "nickname": None}, "title": "x"}},
    ]
    page = read_page({"items": entries, "cursor": None, "has_more": None})
    assert ids(page) == IDS[:2]
    first, second = page.notes
    assert (first.title, first.type, first.author_id, first.likes) == ("", None, None, None)
    assert (second.title, second.author_id, second.author_nickname) == ("x", None, None)
    assert (page.cursor, page.has_more) == (None, None)


def test_odd_types_are_read_as_nothing_never_raise():
    entries = [
        {"id": 650000000000000000000001, "title": "an id as a number"},
        {"id": IDS[1].upper(), "title": "upper case"},
        {"id": f"  {IDS[2]}\n", "title": 7, "display_title": ["x"], "type": 2,
         "user": {"userid": 12345, "nickname": "", "nick_name": "second"}},
        {"note_id": IDS[3], "title": "note_id key", "user": ["not", "a", "dict"], "type": ["x"]},
        {"noteId": IDS[4], "title": "\ud83d cut emoji", "type": "VIDEO"},
    ]
    page = read_page({"items": entries})
    assert ids(page) == IDS[2:5]
    assert page.skipped == {"no_id": 2}
    spaced, keyed, surrogate = page.notes
    assert (spaced.title, spaced.type, spaced.author_id, spaced.author_nickname) == (
        "", None, None, "second")
    assert (keyed.author_id, keyed.type) == (None, None)
    assert surrogate.title == "\ufffd cut emoji"


@pytest.mark.parametrize(("value", "flag"), [
    (True, True), (False, False), (1, True), (0, False), ("true", True), ("False", False),
    (" 1 ", True), ("0", False), ("yes", None), (2, None), (None, None), ([], None), (0.0, None),
])
def test_has_more_in_its_odd_forms(value, flag):
    assert read_page({"items": THREE, "has_more": value}).has_more is flag
    assert read_page({"data": {"notes": THREE}, "hasMore": value}).has_more is flag


# Cursors ----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["cursor", "lastCursor", "last_cursor", "next_cursor", "nextCursor"])
def test_the_page_cursor_under_each_usual_key_is_kept_as_is(key):
    cursor = "eyJ0Ijo+MTY5/9k=\n"
    page = read_page({"notes": THREE, key: cursor, "has_more": True})
    assert page.cursor == cursor
    assert read_page({"data": {"notes": THREE, key: cursor}}).cursor == cursor
    assert read_page({"data": {"notes": THREE}, key: cursor}).cursor == cursor


def test_without_a_page_cursor_the_last_notes_cursor_is_the_next():
    notes = [app_note(0, cursor="c0"), app_note(1, cursor="c1"), app_note(2)]
    assert read_page({"notes": notes}).cursor == "c1"
    wrapped = [{"model_type": "note", "note": app_note(0, cursor="w+/=")}]
    assert read_page({"items": wrapped}).cursor == "w+/="
    # The page's own cursor comes first.
    assert read_page({"notes": notes, "cursor": "page"}).cursor == "page"


@pytest.mark.parametrize(("value", "cursor"), [
    ("", None), (None, None), (0, "0"), (1700000000123, "1700000000123"), (True, None),
    (1.5, None), ({"a": 1}, None), (["x"], None), (" ", " "),
])
def test_odd_cursors(value, cursor):
    assert read_page({"notes": THREE, "cursor": value}).cursor == cursor


# Many random shapes -------------------------------------------------------------


def random_note(rng: random.Random, index: int) -> tuple[Any, dict[str, Any]]:
    """An entry holding note *index* in one of the shapes, and what must be read."""
    likes = rng.choice([(5, 5, None), ("5", 5, "5"), ("1.5万", 15000, "1.5万"), ("10+", 10, "10+")])
    fields: dict[str, Any] = {rng.choice(["title", "display_title"]): f"t{index}",
                              "type": rng.choice(["normal", "video"])}
    fields.update(rng.choice([{"liked_count": likes[0]}, {"likes": likes[0]},
                              {"interact_info": {"liked_count": likes[0]}}]))
    fields[rng.choice(["user", "user_info"])] = {
        rng.choice(["userid", "user_id", "userId"]): f"u{index}",
        rng.choice(["nickname", "nick_name"]): f"n{index}",
    }
    id_key = rng.choice(["id", "note_id", "noteId"])
    entry = rng.choice([
        lambda: {id_key: IDS[index], **fields},
        lambda: {"model_type": "note", "note": {id_key: IDS[index], **fields}},
        lambda: {"id": IDS[index], "model_type": "note", "note_card": fields},
    ])()
    expected = {"note_id": IDS[index], "title": f"t{index}", "likes": likes[1],
                "likes_text": likes[2], "author_id": f"u{index}", "author_nickname": f"n{index}",
                "type": "video" if fields["type"] == "video" else "image"}
    return entry, expected


JUNK = [{"model_type": "ads"}, None, "x", 3, {"id": IDS[30], "name": "tag", "type": "hash_tag"},
        {"model_type": "user", "user": {}}, {"title": "no id"}]


def test_many_random_shapes_give_the_same_notes() -> None:
    rng = random.Random(19)
    for _ in range(500):
        count = rng.randint(0, 8)
        entries: list[Any] = []
        expected: list[dict[str, Any]] = []
        for index in rng.sample(range(25), count):
            entry, wanted = random_note(rng, index)
            entries.append(entry)
            expected.append(wanted)
            entries += rng.sample(JUNK, rng.randint(0, 2))
        data = rng.choice([
            entries,
            {rng.choice(["items", "notes", "list"]): entries, "has_more": True},
            {"data": {rng.choice(["items", "notes"]): entries, "cursor": "c+/="}},
        ])
        # Through JSON: what the API sends is JSON.
        page = read_page(json.loads(json.dumps(data)))
        found = [{key: getattr(note, key) for key in expected[0]} for note in page.notes] if expected else []
        assert found == expected
        assert [note.rank for note in page.notes] == list(range(1, count + 1))
        assert page.readable or not entries


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["null", "bool", "int", "float", "str", "id"] + (["list", "dict"] * 2 if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == "dict":
        keys = ["id", "note", "note_card", "items", "notes", "data", "user", "title", "cursor",
                "has_more", "model_type", "liked_count", "interact_info", "type", "x"]
        return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return {"null": None, "bool": rng.random() < 0.5, "int": rng.randint(-10, 10**20),
            "float": rng.choice([0.5, -1.0, float("inf"), float("nan"), 1e300]),
            "str": rng.choice(["", "note", "1.2万", "video", "\ud800", "+/="]),
            "id": rng.choice(IDS)}[kind]


def test_random_json_never_breaks_the_reader():
    rng = random.Random(1919)
    for _ in range(3000):
        page = read_page(random_json(rng))
        assert all(note.note_id in IDS for note in page.notes)
        assert [note.rank for note in page.notes] == list(range(1, len(page.notes) + 1))
        assert page.cursor is None or (isinstance(page.cursor, str) and page.cursor)
        assert page.has_more in (None, True, False)
        assert set(page.skipped) <= set(SKIP_REASONS)
        assert page.readable or not page.notes
