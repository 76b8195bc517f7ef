"""The store's records of the sources beyond the channel feed (keywords,
creators, topics, share links), on both backends: written and read back,
idempotent on replay, order-free, and old stores migrated in place."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.source_items import creator, found_note_id, raw_answer, source_appearance
from tests.test_store import BACKENDS, build_store, mongo_server  # noqa: F401 (a fixture)
from xhs_spider.store import NoteStore, SqliteNoteStore, WriteBatch, spill
from xhs_spider.store.journal import Journal

FOOD = "homefeed_food_v3"
USER = "5c0000000000000000000001"
T0, T1, T2, T3 = (f"2026-11-22T10:00:0{n}.000Z" for n in range(4))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NoteStore]:
    with build_store(backend, request, tmp_path) as opened:
        yield opened


def feed_card(number: int, *, channel: str = FOOD, position: int = 1, at: str = T0) -> dict:
    return {
        "note_id": found_note_id(number), "channel": channel, "page": 1, "position": position,
        "crawled_at": at, "title": "卡片", "type": "image", "likes": 3, "likes_text": None,
        "author": {"user_id": USER, "nickname": None},
    }


def source_page(kind: str, value: str, page: int, **changes: object) -> dict:
    return {
        "crawl_id": "crawl-1", "source_kind": kind, "source_value": value, "page": page,
        "cursor": None if page == 1 else "c%d" % (page - 1), "next_cursor": "c%d" % page,
        "notes": 20, "new_notes": 5, "next": True, "stop": None, "at": T1, **changes,
    }


def share_link(url: str, resolved: str, at: str = T1) -> dict:
    return {"url": url, "resolved_url": resolved, "at": at}


def every_kind() -> WriteBatch:
    """One batch with an operation of every kind the discovery sources add."""
    return WriteBatch(
        "run-1",
        appearances=[feed_card(1)],
        source_appearances=[
            dict(source_appearance(1)), dict(source_appearance(2, position=3)),
            dict(source_appearance(1, source_kind="user", source_value=USER, rank=4, position=4)),
        ],
        source_pages=[source_page("keyword", "咖啡", 1), source_page("user", USER, 1, next=False, stop="known_note")],
        creators=[dict(creator())],
        raw_answers=[dict(raw_answer(page=2, cursor="c1"))],
        share_links=[share_link("http://xhslink.com/a/AbC", "https://www.xiaohongshu.com/explore/" + found_note_id(1))],
    )


def everything(store: NoteStore) -> dict:
    """All the store says about the discovery sources."""
    return {
        "notes": list(store.iter_notes()),
        **{name: store.records(name) for name in (
            "feed_appearances", "source_pages", "creators", "raw_answers", "share_links")},
    }


# Written and read back ----------------------------------------------------------


def test_records_of_every_new_kind_are_written_and_read_back(store: NoteStore) -> None:
    store.write(every_kind())

    appearances = store.records("feed_appearances")
    assert [(a["source_kind"], a["source_value"], a["position"]) for a in appearances] == [
        ("channel", FOOD, 1), ("keyword", "咖啡", 1), ("keyword", "咖啡", 3), ("user", USER, 4),
    ]
    assert appearances[0]["channel"] == FOOD  # the feed card is unchanged, its source added
    assert appearances[1] == {**source_appearance(1), "run_id": "run-1"}
    first, second = store.get_note(found_note_id(1)), store.get_note(found_note_id(2))
    assert first is not None and second is not None
    assert first["sources"] == ["channel:" + FOOD, "keyword:咖啡", "user:" + USER]
    assert first["channels"] == [FOOD]
    assert second["sources"] == ["keyword:咖啡"]
    assert second["channels"] == []

    assert store.source_pages("crawl-1") == [source_page("keyword", "咖啡", 1),
                                             source_page("user", USER, 1, next=False, stop="known_note")]
    assert store.source_pages("crawl-2") == []
    assert store.records("creators") == [{**creator(), "run_id": "run-1"}]
    assert store.creator_fetch_times([USER, "5c00000000000000000000ff"]) == {USER: creator()["fetched_at"]}
    assert store.records("raw_answers") == [{**raw_answer(page=2, cursor="c1"), "run_id": "run-1"}]
    assert store.share_links(["http://xhslink.com/a/AbC", "http://xhslink.com/a/other"]) == {
        "http://xhslink.com/a/AbC": "https://www.xiaohongshu.com/explore/" + found_note_id(1),
    }
    counts = {name: store.count(name) for name in ("source_pages", "creators", "raw_answers", "share_links")}
    assert counts == {"source_pages": 2, "creators": 1, "raw_answers": 1, "share_links": 1}
    with pytest.raises(ValueError, match="records of 'notes' cannot be listed"):
        store.records("notes")


def test_two_sources_at_the_same_place_are_two_appearances(store: NoteStore) -> None:
    store.write(WriteBatch("run-1", appearances=[feed_card(1)], source_appearances=[
        dict(source_appearance(1)), dict(source_appearance(2, source_value="露营", position=1)),
        dict(source_appearance(3, source_kind="topic", source_value="5c00000000000000000000aa", position=1)),
    ]))
    store.write(WriteBatch("run-1", source_appearances=[dict(source_appearance(4, position=1))]))

    # Same run, page and position: one per source; the last one at a place wins.
    assert store.count("feed_appearances") == 4
    assert [a["note_id"] for a in store.records("feed_appearances")][1:] == [
        found_note_id(4), found_note_id(2), found_note_id(3),
    ]


def test_unfetched_notes_of_sources(store: NoteStore) -> None:
    store.write(WriteBatch("run-1", appearances=[feed_card(1, at=T0)], source_appearances=[
        dict(source_appearance(2, crawled_at=T1)), dict(source_appearance(3, crawled_at=T2, source_value="露营")),
    ]))
    store.write(WriteBatch("run-1", unavailable=[(found_note_id(3), T3)]))

    assert store.unfetched_source_note_ids(None, None) == [found_note_id(1), found_note_id(2)]
    assert store.unfetched_source_note_ids(["keyword:咖啡", "keyword:露营"], None) == [found_note_id(2)]
    assert store.unfetched_source_note_ids(["channel:" + FOOD], None) == [found_note_id(1)]
    assert store.unfetched_source_note_ids(None, 1) == [found_note_id(1)]
    assert store.unfetched_source_note_ids(["user:" + USER], None) == []
    assert store.unfetched_note_ids([FOOD], None) == [found_note_id(1)]


def test_the_newest_profile_and_resolution_stay_whatever_the_order(store: NoteStore) -> None:
    newer, older = creator(fetched_at=T2, nickname="新"), creator(fetched_at=T1, nickname="旧")
    store.write(WriteBatch("run-2", creators=[dict(newer)], share_links=[share_link("u", "new", T2)]))
    store.write(WriteBatch("run-1", creators=[dict(older)], share_links=[share_link("u", "old", T1)]))

    assert [record["nickname"] for record in store.records("creators")] == ["新"]
    assert store.creator_fetch_times([USER]) == {USER: T2}
    assert store.share_links(["u"]) == {"u": "new"}
    store.write(WriteBatch("run-3", creators=[dict(creator(fetched_at=T3, nickname="最新"))]))
    assert [(r["nickname"], r["run_id"]) for r in store.records("creators")] == [("最新", "run-3")]


# Replays ------------------------------------------------------------------------------


def test_writing_a_batch_again_changes_nothing(store: NoteStore) -> None:
    store.write(every_kind())
    first = everything(store)
    store.write(every_kind())
    assert everything(store) == first


def journal_of_a_killed_run(batch: WriteBatch, tmp_path: Path) -> tuple[Path, Path]:
    """What a run journaling *batch* and dying leaves: its journal, and a copy as a spill file."""
    journal = Journal.for_run(tmp_path / "run", batch.run_id)
    for kind, data in batch.operations():
        journal.append(kind, data)
    # The run dies here: what its journal holds on disk is all there is.
    left, copy = tmp_path / "left" / journal.path.name, tmp_path / "left" / f"spill-{batch.run_id}.jsonl"
    left.parent.mkdir()
    shutil.copy(journal.path, left)
    shutil.copy(journal.path, copy)
    journal.discard()
    return left, copy


def test_a_journal_of_a_killed_run_replays_every_kind_once(store: NoteStore, tmp_path: Path) -> None:
    left, copy = journal_of_a_killed_run(every_kind(), tmp_path)

    assert spill.replay(left, store) == len(every_kind())
    replayed = everything(store)
    assert spill.replay(copy, store) == len(every_kind())

    assert everything(store) == replayed
    with SqliteNoteStore(tmp_path / "reference.sqlite3") as reference:
        reference.write(every_kind())
        assert everything(reference) == replayed


def test_a_journal_line_of_a_new_kind_lacking_its_key_refuses_the_file() -> None:
    lines = [json.dumps({"kind": "source_appearance", "run_id": "r", "data": {"note_id": "x"}}), ""]
    with pytest.raises(ValueError, match="line 1: source_appearance data lacks source_kind"):
        WriteBatch.from_json_lines(lines)


def shuffled_folds(
    operations: list[tuple[str, dict]], new_store: Callable[[], NoteStore], read: Callable[[NoteStore], Any],
    *, size: int,
) -> list[Any]:
    """What *read* finds in three new stores, each given *operations* in
    another order, in batches of *size*."""
    states = []
    for seed in range(3):
        random.Random(seed).shuffle(operations)
        with new_store() as store:
            for start in range(0, len(operations), size):
                batch = WriteBatch("run-1")
                for kind, data in operations[start:start + size]:
                    batch.add(kind, data)
                store.write(batch)
            states.append(read(store))
    return states


def test_sources_fold_order_free(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    cards = [feed_card(n % 3, channel=("homefeed_a", "homefeed_b")[n % 2], position=n, at=f"2026-11-22T10:00:{n:02d}Z")
             for n in range(6)]
    found = [dict(source_appearance(n % 3, source_value=("咖啡", "露营", "茶")[n % 3], position=n + 1,
                                    crawled_at=f"2026-11-22T11:00:{n:02d}Z")) for n in range(6)]
    operations = [("appearance", card) for card in cards] + [("source_appearance", item) for item in found]
    states = shuffled_folds(operations, lambda: build_store(backend, request, tmp_path),
                            lambda store: list(store.iter_notes()), size=4)
    assert states[0] == states[1] == states[2]
    assert states[0][0]["sources"] == ["channel:homefeed_a", "channel:homefeed_b", "keyword:咖啡"]
