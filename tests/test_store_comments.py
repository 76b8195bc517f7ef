# ruff: noqa: F811 - the store and backend fixtures are test_store_sources's
"""The store's comments on both backends: one record per comment (the newest
wins, replays change nothing), like-count snapshots, the notes' comment
bookkeeping (comments_done), which notes need their comments, which comments
are stored, and the comment leases of overlapping crawls."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.comment_items import COMMENTED_NOTE, FETCHED_AT, comment, reply
from tests.source_items import found_note_id, source_appearance
from tests.test_store import build_store, detail, mongo_server  # noqa: F401 (a fixture)
from tests.test_store_sources import (  # noqa: F401 (fixtures)
    backend,
    journal_of_a_killed_run,
    shuffled_folds,
    store,
)
from xhs_spider.store import NoteStore, SqliteNoteStore, WriteBatch, spill
from xhs_spider.store.base import Lease

T0, T1, T2, T3, T4 = (f"2026-11-22T10:00:0{n}.000Z" for n in range(5))
LATER = "2026-11-23T00:00:00.000Z"
A, B, C = found_note_id(0xA), found_note_id(0xB), found_note_id(0xC)


def done(note_id: str, at: str, counter: int | None = 5, comments: int = 3, *, complete: bool = True) -> dict:
    return {"note_id": note_id, "at": at, "counter": counter, "comments": comments, "complete": complete}


def with_counter(note_id: str, at: str, comments: int | None) -> dict:
    """A detail of *note_id* at *at* whose comment counter is *comments*."""
    item = detail(1, at)
    item.update(note_id=note_id, url="https://www.xiaohongshu.com/explore/" + note_id)
    item["counts"] = {**item["counts"], "comments": comments}
    return item


def every_kind() -> WriteBatch:
    """Comments, a reply, and a note's paging done, as one run writes them."""
    return WriteBatch(
        "run-1",
        comments=[dict(comment(1)), dict(comment(2, likes=None, likes_text=None)), dict(reply(1, parent=1))],
        comments_done=[done(COMMENTED_NOTE, T1, counter=7, comments=3)],
    )


def everything(store: NoteStore) -> dict:
    return {"notes": list(store.iter_notes()), "comments": store.records("comments"),
            "metrics": store.count("comment_metrics")}


def test_comments_and_the_paging_are_written_and_read_back(store: NoteStore) -> None:
    store.write(every_kind())

    assert store.records("comments") == [
        {**comment(1), "first_fetched_at": FETCHED_AT},
        {**comment(2, likes=None, likes_text=None), "first_fetched_at": FETCHED_AT},
        {**reply(1, parent=1), "first_fetched_at": FETCHED_AT},
    ]
    assert {name: store.count(name) for name in ("comments", "comment_metrics", "comment_claims")} == {
        "comments": 3, "comment_metrics": 3, "comment_claims": 0}
    note = store.get_note(COMMENTED_NOTE)
    assert note is not None
    assert (note["comments_fetched_at"], note["comments_counter"], note["comments_stored"]) == (T1, 7, 3)
    assert note["status"] == "seen"  # known by its comments; its detail was never paid for
    assert store.stored_comment_ids(COMMENTED_NOTE, ["c0001", "r0001-01", "c0009"]) == {"c0001", "r0001-01"}
    assert store.stored_comment_ids(A, ["c0001"]) == set()
    assert store.stored_comment_ids(COMMENTED_NOTE, []) == set()


def test_the_newest_comment_stays_and_its_likes_are_snapshots(store: NoteStore) -> None:
    store.write(WriteBatch("run-2", comments=[dict(comment(1, fetched_at=T2, likes=20, content="新"))]))
    store.write(WriteBatch("run-1", comments=[dict(comment(1, fetched_at=T1, likes=10, content="旧"))]))
    # Same time as the newest, other content: the first written stays.
    store.write(WriteBatch("run-3", comments=[dict(comment(1, fetched_at=T2, likes=99, content="同时"))]))

    [record] = store.records("comments")
    assert (record["content"], record["likes"], record["fetched_at"], record["first_fetched_at"]) == (
        "新", 20, T2, T1)
    assert store.count("comment_metrics") == 2

    store.write(WriteBatch("run-4", comments=[dict(comment(1, fetched_at=T3, likes=30, content="最新"))]))
    [record] = store.records("comments")
    assert (record["content"], record["likes"], record["first_fetched_at"]) == ("最新", 30, T1)
    assert store.count("comment_metrics") == 3


def test_the_newest_complete_paging_stays_and_one_cut_short_changes_nothing(store: NoteStore) -> None:
    store.write(WriteBatch("run-2", notes=[with_counter(A, T0, 9)], comments_done=[done(A, T2, counter=9, comments=4)]))
    store.write(WriteBatch("run-1", comments_done=[done(A, T1, counter=5, comments=2)]))
    store.write(WriteBatch("run-3", comments_done=[done(A, T3, counter=12, comments=1, complete=False)]))

    note = store.get_note(A)
    assert note is not None
    assert (note["comments_fetched_at"], note["comments_counter"], note["comments_stored"]) == (T2, 9, 4)
    assert (note["status"], note["last_seen_at"]) == ("ok", T2)
    assert store.get_note(B) is None
    store.write(WriteBatch("run-4", comments_done=[done(B, T3, complete=False)]))
    assert store.get_note(B) is None


def test_writing_a_batch_again_changes_nothing(store: NoteStore) -> None:
    store.write(every_kind())
    first = everything(store)
    store.write(every_kind())
    assert everything(store) == first


def test_a_journal_of_a_killed_run_replays_comments_once(store: NoteStore, tmp_path: Path) -> None:
    left, copy = journal_of_a_killed_run(every_kind(), tmp_path)
    store.claim_comments([COMMENTED_NOTE], Lease("crawl-1", "run-1", T0, LATER, None))

    assert spill.replay(left, store) == len(every_kind())
    replayed = everything(store)
    assert spill.replay(copy, store) == len(every_kind())

    assert everything(store) == replayed
    assert store.count("comment_claims") == 0  # the dead run's comment lease ended with its replay
    with SqliteNoteStore(tmp_path / "reference.sqlite3") as reference:
        reference.write(every_kind())
        assert everything(reference) == replayed


def test_comments_fold_order_free(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    operations = [("comment", dict(comment(n % 3, fetched_at=f"2026-11-22T10:00:{n:02d}.000Z", likes=n)))
                  for n in range(6)]
    operations += [("comments_done", done(COMMENTED_NOTE, f"2026-11-22T11:00:{n:02d}.000Z", counter=n, comments=n))
                   for n in range(4)]
    states = shuffled_folds(operations, lambda: build_store(backend, request, tmp_path), everything, size=3)
    assert states[0] == states[1] == states[2]
    assert [c["likes"] for c in states[0]["comments"]] == [3, 4, 5]
    assert states[0]["notes"][0]["comments_counter"] == 3


# Which notes need their comments ---------------------------------------------------


def targets_store(store: NoteStore) -> None:
    """A: never paged; B: paged at T2 with its counter; C: paged at T1, its counter grew since.
    found_note_id(0xD): paged at T1, no counter known; 0xE: only seen, no detail."""
    d = found_note_id(0xD)
    store.write(WriteBatch(
        "run-1",
        notes=[with_counter(A, T0, 4), with_counter(B, T0, 6), with_counter(C, T0, 8), with_counter(d, T0, None)],
        source_appearances=[dict(source_appearance(0xA, crawled_at=T0)), dict(source_appearance(0xE, crawled_at=T0)),
                            dict(source_appearance(0xB, source_kind="user", source_value="u1", crawled_at=T3))],
        comments_done=[done(B, T2, counter=6), done(C, T1, counter=5), done(d, T1, counter=None)],
    ))


def ids(targets: list[dict]) -> list[str]:
    return [target["note_id"] for target in targets]


def test_the_stored_notes_needing_comments(store: NoteStore) -> None:
    targets_store(store)
    d = found_note_id(0xD)

    # Fresh (paged since T1): B (counter unchanged) and D (no counter to compare) are not needed.
    assert store.comment_targets(None, since=None, sources=None, stale_before=T1, limit=None) == [
        {"note_id": A, "counter": 4, "comments_fetched_at": None, "comments_counter": None},
        {"note_id": C, "counter": 8, "comments_fetched_at": T1, "comments_counter": 5},
    ]
    # Stale before T3: every stored note with a detail, never paged first, then the longest ago.
    assert ids(store.comment_targets(None, since=None, sources=None, stale_before=T3, limit=None)) == [A, C, d, B]
    assert ids(store.comment_targets(None, since=None, sources=None, stale_before=T3, limit=2)) == [A, C]
    # Only notes seen since T3 (B: its appearance), or under one of the sources.
    assert ids(store.comment_targets(None, since=T3, sources=None, stale_before=T4, limit=None)) == [B]
    assert ids(store.comment_targets(None, since=None, sources=["keyword:咖啡"], stale_before=T4, limit=None)) == [A]
    assert ids(store.comment_targets(None, since=None, sources=["user:u1", "channel:x"], stale_before=T4,
                                     limit=None)) == [B]


def test_the_given_notes_needing_comments(store: NoteStore) -> None:
    targets_store(store)
    unknown, seen_only = found_note_id(0x99), found_note_id(0xE)

    # In the order given, stored or not, any status; each once.
    assert store.comment_targets([unknown, B, C, seen_only, A, C], since=T4, sources=["none:x"],
                                 stale_before=T1, limit=None) == [
        {"note_id": unknown, "counter": None, "comments_fetched_at": None, "comments_counter": None},
        {"note_id": C, "counter": 8, "comments_fetched_at": T1, "comments_counter": 5},
        {"note_id": seen_only, "counter": None, "comments_fetched_at": None, "comments_counter": None},
        {"note_id": A, "counter": 4, "comments_fetched_at": None, "comments_counter": None},
    ]
    assert ids(store.comment_targets([B, A], since=None, sources=None, stale_before=T1, limit=1)) == [A]
    assert store.comment_targets([], since=None, sources=None, stale_before=T1, limit=None) == []


# Comment leases ---------------------------------------------------------------------


def lease(crawl: str, *, now: str = T1, expires: str = T3, fresh_since: str | None = None) -> Lease:
    return Lease(crawl_id=crawl, run_id=f"{crawl}-run", now=now, expires_at=expires, fresh_since=fresh_since)


def test_a_note_s_comments_are_leased_to_one_crawl_at_a_time(store: NoteStore) -> None:
    assert store.claim_comments([A, B], lease("one")) == {A, B}
    assert store.claim_comments([A, B, C], lease("two")) == {C}
    assert store.claim_comments([A], lease("one")) == {A}  # the holder may claim again
    # The detail lease is another: a crawl may fetch a note's detail while another pages its comments.
    assert store.claim([A, B], lease("two")) == {A, B}
    assert store.claim_comments([A], lease("two", now=T3)) == {A}  # expired: taken over
    store.release("one-run")
    assert store.claim_comments([B], lease("three")) == {B}
    store.release("two-run")
    assert store.count("claims") == 0
    assert store.claim_comments([A, C], lease("three")) == {A, C}


def test_comments_another_crawl_just_paged_are_not_leased_again(store: NoteStore) -> None:
    targets_store(store)
    # B was paged at T2 and its counter has not grown; C's has grown; A was never paged.
    assert store.claim_comments([A, B, C], lease("one", now=T3, fresh_since=T1)) == {A, C}
    # Stale for a crawl whose limit is past T2: B too.
    assert store.claim_comments([B], lease("two", now=T3, fresh_since=T3)) == {B}
    assert store.claim_comments([], lease("two")) == set()


def test_whether_the_store_holds_a_fetched_note(store: NoteStore) -> None:
    assert not store.has_notes()
    # A note only seen (no detail) is nothing comments -a stored=true can page.
    store.write(WriteBatch("run-1", source_appearances=[dict(source_appearance(0xE, crawled_at=T0))]))
    assert not store.has_notes()
    store.write(WriteBatch("run-1", notes=[with_counter(A, T0, 4)]))
    assert store.has_notes()
