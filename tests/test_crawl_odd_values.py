"""Whole crawls against a sandbox that sends odd values, and replays of spills holding them.

Each odd value (``odd_values`` in the sandbox) goes into some note cards of
each feed page and some details; the crawl must finish, every other note of
the page, the channel and the batch must be stored, the odd one normalised
or its field rejected and counted, and a spill holding odd values must
replay every record into either store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from sandbox.faults import ODD_VALUE_KINDS
from tests.conftest import InProcessCrawl, feed_note_ids
from tests.test_store import BACKENDS, build_store, mongo_server  # noqa: F401 (a fixture)
from xhs_spider import stats as keys
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.store import spill
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.sqlite import SqliteNoteStore

CHANNEL = "homefeed_food_v3"
PAGES = 2
#: The kinds whose field is rejected as null (and counted) rather than repaired.
REJECTED = {"huge_int", "huge_float", "infinity", "nan", "numeric_string", "absurd_timestamp"}


@pytest.fixture
def odd_api(api: SandboxProcess) -> Iterator[SandboxProcess]:
    """The shared sandbox; odd values off again afterwards (``api`` does not reset them)."""
    yield api
    api.configure(odd_value_rate=0, odd_values=list(ODD_VALUE_KINDS))


def check_card(appearance: dict, kind: str) -> None:
    if kind == "surrogate":
        assert appearance["title"].endswith("\ufffd")
    elif kind == "numeric_string":
        assert appearance["likes"] is None and appearance["likes_text"] == "99999999999999999999"
    elif kind in REJECTED - {"absurd_timestamp"}:
        assert appearance["likes"] is None and appearance["likes_text"]
    elif kind == "absurd_timestamp":
        assert appearance["published_at"] is None
    elif kind in ("ms_timestamp", "us_timestamp"):
        assert appearance["published_at"].startswith("20")
    elif kind == "deep_nesting":
        assert appearance["category"] is None


def check_note(note: dict, kind: str) -> None:
    if kind == "surrogate":
        assert note["title"].endswith("\ufffd")
    elif kind in REJECTED - {"absurd_timestamp"}:
        assert note["counts"]["likes"] is None
    elif kind == "absurd_timestamp":
        assert note["published_at"] is None
    elif kind in ("ms_timestamp", "us_timestamp"):
        assert note["published_at"].startswith("20")


@pytest.mark.parametrize("kind", ODD_VALUE_KINDS)
@deferred_f_from_coro_f
async def test_one_odd_value_takes_nothing_else_down(
    in_process_crawl: InProcessCrawl, odd_api: SandboxProcess, tmp_path: Path, kind: str
) -> None:
    odd_api.configure(odd_value_rate=0.3, odd_values=[kind])
    result = await in_process_crawl(FeedSpider, oid=CHANNEL, pages=str(PAGES))

    assert result.finish_reason == "finished"
    served = odd_api.stats()
    odd_cards, odd_details = served["odd_cards_by_note"], served["odd_details_by_note"]
    assert odd_cards and odd_details and served["feed_billed_by_page"] == {
        f"{CHANNEL}:{page}": 1 for page in range(1, PAGES + 1)
    }
    # Every card of every page of the channel is an appearance, odd or not.
    on_pages = [note_id for page in range(1, PAGES + 1) for note_id in feed_note_ids(odd_api, CHANNEL, page)]
    assert sorted(a["note_id"] for a in result.appearances) == sorted(on_pages)
    for appearance in result.appearances:
        if appearance["note_id"] in odd_cards:
            check_card(appearance, kind)
    assert (keys.total(keys.FEED_INVALID, result.stats) > 0) == (kind in REJECTED)
    assert (keys.total(keys.NOTES_INVALID, result.stats) > 0) == (kind in REJECTED)
    assert keys.FEED_CARDS_SKIPPED.format(reason="malformed") not in result.stats

    # Every paid detail gave its note, odd or not; each note stored once.
    unavailable = result.stats.get(keys.NOTES_UNAVAILABLE, 0)
    paid = set(served["detail_billed_by_note"])
    assert paid == set(on_pages)
    with SqliteNoteStore(tmp_path / "xhs.sqlite3") as store:
        stored = {note_id: store.get_note(note_id) for note_id in paid}
    statuses = {note_id: (record or {}).get("status") for note_id, record in stored.items()}
    lost = sorted(note_id for note_id, status in statuses.items() if status not in ("ok", "unavailable"))
    assert lost == []
    assert len(result.notes) + unavailable == len(paid)
    for note in result.notes:
        if note["note_id"] in odd_details:
            check_note(note, kind)
            check_note(stored[note["note_id"]] or {}, kind)


def test_every_odd_value_at_once_in_a_subprocess_crawl(crawl, odd_api: SandboxProcess) -> None:
    odd_api.configure(odd_value_rate=0.5, odd_values=list(ODD_VALUE_KINDS))
    result = crawl("feed", f"oid={CHANNEL}", f"pages={PAGES}")

    assert result.returncode == 0, result.stdout[-2000:]
    assert result.stats["finish_reason"] == "finished"
    served = odd_api.stats()
    assert len(served["odd_values"]) > 5
    on_pages = {note_id for page in range(1, PAGES + 1) for note_id in feed_note_ids(odd_api, CHANNEL, page)}
    assert {item["note_id"] for item in result.items if "channel" in item} == on_pages
    details = {item["note_id"] for item in result.items if "counts" in item}
    assert set(served["detail_billed_by_note"]) == on_pages
    assert len(details) + result.stats.get(keys.NOTES_UNAVAILABLE, 0) == len(on_pages)
    assert "Traceback" not in result.log


def odd_batch(run_id: str) -> WriteBatch:
    """A batch whose items slipped past normalisation with every odd value."""
    note_ids = ["%024x" % (0x67F32AB4 << 64 | n) for n in range(4)]
    at = "2026-11-22T00:00:0%d.000Z"
    notes = [
        {"note_id": note_ids[0], "crawled_at": at % 1, "title": "cut \ud83d", "counts": {"likes": 10**20}},
        {"note_id": note_ids[1], "crawled_at": at % 2, "counts": {"likes": float("nan"), "shares": float("inf")},
         "video": {"duration": 1e300}},
        {"note_id": note_ids[2], "crawled_at": at % 3, "counts": {"likes": 3}, "author": {"nickname": "\udc00"}},
    ]
    appearances = [
        {"note_id": note_ids[n], "channel": CHANNEL, "page": 1, "position": n + 1, "crawled_at": at % 1,
         "title": "t\ud83d", "likes": [10**20, float("-inf")][n % 2], "likes_text": "x\udfff"}
        for n in range(4)
    ]
    runs = [{"run_id": run_id, "note": "\ud800", "big": -(10**30)}]
    pages = [{"crawl_id": "c\ud83d", "channel": CHANNEL, "page": 1, "next": False, "at": at % 1,
              "cards": 10**25}]
    return WriteBatch(run_id, notes=notes, appearances=appearances, runs=runs, pages=pages)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_spill_with_odd_values_replays_every_record(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    batch = odd_batch("run-odd")
    path = spill.spill_path(tmp_path, batch.run_id)
    spill.append(path, batch)
    path.read_text("utf-8")  # valid UTF-8
    store = build_store(backend, request, tmp_path)
    with store:
        assert spill.replay(path, store) == len(batch)
        assert store.count("notes") == 4
        assert store.count("feed_appearances") == 4
        assert store.count("note_metrics") == 3
        assert store.count("feed_pages") == 1
        note = store.get_note(batch.notes[0]["note_id"])
        assert note is not None and note["title"] == "cut \ufffd"
        assert note["counts"]["likes"] == "100000000000000000000"
        second = store.get_note(batch.notes[1]["note_id"])
        assert second is not None and second["counts"] == {"likes": None, "shares": None}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_with_odd_values_is_written_directly(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    batch = odd_batch("run-direct")
    with build_store(backend, request, tmp_path) as store:
        store.write(batch)
        store.write(batch)  # idempotent, as a replay after a partial write is
        assert store.count("notes") == 4 and store.count("note_metrics") == 3
        assert [run["run_id"] for run in store.find_runs()] == ["run-direct"]
