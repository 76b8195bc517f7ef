"""Leases, paid failures, feed pages and unfetched notes, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mongo_server import MongoServer
from xhs_spider.store import MongoNoteStore, NoteStore, SqliteNoteStore, WriteBatch
from xhs_spider.store.base import Lease

A, B, C = "a" * 24, "b" * 24, "c" * 24
T0, T1, T2, T3 = (f"2026-11-22T10:00:0{n}.000Z" for n in range(4))


@pytest.fixture(scope="module")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    with MongoServer(tmp_path_factory.mktemp("claims-mongo")) as server:
        yield server


@pytest.fixture(params=["sqlite", "mongodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NoteStore]:
    if request.param == "sqlite":
        opened: NoteStore = SqliteNoteStore(tmp_path / "xhs.sqlite3")
    else:
        server = request.getfixturevalue("mongo")
        opened = MongoNoteStore(server.uri("claims_%s" % uuid.uuid4().hex[:12]))
    with opened:
        yield opened


def seen(note_id: str, channel: str = "homefeed_food_v3", at: str = T0) -> dict:
    return {"note_id": note_id, "channel": channel, "page": 1, "position": 1, "crawled_at": at}


def lease(crawl: str, *, now: str = T1, expires: str = T3, fresh_since: str | None = None) -> Lease:
    return Lease(crawl_id=crawl, run_id=f"{crawl}-run", now=now, expires_at=expires,
                 fresh_since=fresh_since)


def test_a_note_is_granted_to_one_crawl_at_a_time(store: NoteStore) -> None:
    assert store.claim([A, B], lease("one")) == {A, B}
    assert store.claim([A, B, C], lease("two")) == {C}
    # The holder may claim again (a resumed run of the same crawl).
    assert store.claim([A], lease("one")) == {A}
    # Once the lease has expired, another crawl takes the note over.
    assert store.claim([A], lease("two", now=T3)) == {A}


def test_release_frees_only_that_runs_notes(store: NoteStore) -> None:
    store.claim([A], lease("one"))
    store.claim([B], lease("two"))
    store.release("one-run")
    assert store.claim([A, B], lease("three")) == {A}


def test_a_fresh_note_is_not_granted(store: NoteStore) -> None:
    store.write(WriteBatch(run_id="r", appearances=[seen(A), seen(B)],
                           notes=[{"note_id": A, "crawled_at": T1}]))
    assert store.claim([A, B], lease("one", now=T2, fresh_since=T0)) == {B}
    assert store.claim([A], lease("two", now=T2, fresh_since=T2)) == {A}


def test_a_paid_failure_counts_as_a_fetch_and_is_kept(store: NoteStore) -> None:
    failure = {"note_id": A, "at": T1, "reason": "invalid"}
    store.write(WriteBatch(run_id="r", appearances=[seen(A)], failed=[failure]))
    assert store.fetch_times([A]) == {A: T1}
    record = store.get_note(A)
    assert record is not None
    assert (record["status"], record["failed_at"], record["failed_reason"]) == ("failed", T1, "invalid")
    # A later detail makes it a note like any other; an older failure replayed changes nothing.
    store.write(WriteBatch(run_id="r", notes=[{"note_id": A, "crawled_at": T2}]))
    store.write(WriteBatch(run_id="r", failed=[{"note_id": A, "at": T0, "reason": "callback_error"}]))
    record = store.get_note(A)
    assert record is not None
    assert (record["status"], record["failed_reason"]) == ("ok", "invalid")
    assert store.fetch_times([A]) == {A: T2}


def test_a_note_the_api_refused_is_fresh_until_the_ttl_and_not_unfetched(store: NoteStore) -> None:
    refused = {"note_id": A, "at": T1, "reason": "code_400"}
    store.write(WriteBatch(run_id="r", appearances=[seen(A), seen(B)], failed=[refused]))
    record = store.get_note(A)
    assert record is not None
    assert (record["status"], record["failed_at"], record["failed_reason"]) == ("failed", T1, "code_400")
    assert store.unfetched_note_ids(None, None) == [B]
    # Within the TTL it is not granted; past it (or asked by name), it is.
    assert store.claim([A, B], lease("one", now=T2, fresh_since=T0)) == {B}
    assert store.claim([A], lease("one", now=T2, fresh_since=T2)) == {A}


def test_a_refusal_and_a_detail_fold_the_same_in_any_order(tmp_path: Path) -> None:
    refused = WriteBatch(run_id="r", appearances=[seen(A)],
                         failed=[{"note_id": A, "at": T2, "reason": "code_400"}])
    detail = WriteBatch(run_id="r", notes=[{"note_id": A, "crawled_at": T1}])
    records = []
    for name, batches in (("forth", [refused, detail]), ("back", [detail, refused, detail])):
        with SqliteNoteStore(tmp_path / f"{name}.sqlite3") as store:
            for batch in batches:
                store.write(batch)
            records.append(store.get_note(A))
            assert store.fetch_times([A]) == {A: T2}
    assert records[0] == records[1]
    assert records[0] is not None and (records[0]["status"], records[0]["failed_reason"]) == ("ok", "code_400")


def test_unfetched_notes_of_some_channels_oldest_first(store: NoteStore) -> None:
    store.write(WriteBatch(run_id="r", appearances=[
        seen(B, at=T1), seen(A, at=T2), seen(C, "homefeed_travel_v3", at=T0),
    ], unavailable=[(C, T3)]))
    assert store.unfetched_note_ids(["homefeed_food_v3"], None) == [B, A]
    assert store.unfetched_note_ids(None, 1) == [B]
    store.write(WriteBatch(run_id="r", notes=[{"note_id": B, "crawled_at": T3}]))
    assert store.unfetched_note_ids(None, None) == [A]


def test_feed_pages_of_one_crawl(store: NoteStore) -> None:
    page = {"crawl_id": "c1", "channel": "homefeed_food_v3", "page": 2, "cards": 9,
            "new_notes": 3, "next": True, "at": T1}
    store.write(WriteBatch(run_id="r", pages=[page, {**page, "page": 1}, {**page, "crawl_id": "c2"}]))
    store.write(WriteBatch(run_id="r", pages=[page]))  # replayed: once
    assert [p["page"] for p in store.feed_pages("c1")] == [1, 2]
    assert store.feed_pages("c1")[1] == page
