"""Every paid answer is remembered: dropped details, pending spills, a vanished
store file, a torn spill line."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import InProcessCrawl, run_scrapy
from xhs_spider.items import NoteItem
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.store import SqliteNoteStore, WriteBatch, open_store, spill
from xhs_spider.store.batch import read_operations
from xhs_spider.store.note_state import DETAIL_FIELDS

CHANNEL = "homefeed_food_v3"


class SpoilFirstNote:
    """Stands in for an odd API value: the first note fails its schema."""

    spoiled: str | None = None

    def process_item(self, item: Any) -> Any:
        if isinstance(item, NoteItem) and SpoilFirstNote.spoiled in (None, item["note_id"]):
            SpoilFirstNote.spoiled = item["note_id"]
            item["counts"] = {**item["counts"], "likes": -1}
        return item


class FailingDetailSpider(FeedSpider):
    """A callback that raises on one note's detail."""

    failing: str | None = None

    def parse_detail(self, response: Any, note_id: str) -> Any:
        if FailingDetailSpider.failing in (None, note_id):
            FailingDetailSpider.failing = note_id
            raise RuntimeError("callback bug")
        return super().parse_detail(response, note_id)


@deferred_f_from_coro_f
async def test_a_paid_detail_dropped_as_invalid_is_not_paid_for_again(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path: Path,
) -> None:
    SpoilFirstNote.spoiled = None
    pipelines = {"ITEM_PIPELINES": {f"{__name__}.SpoilFirstNote": 50}}
    first = await in_process_crawl(FeedSpider, oid=CHANNEL, pages="1", settings=pipelines)
    spoiled = SpoilFirstNote.spoiled
    assert spoiled is not None and spoiled not in {n["note_id"] for n in first.notes}
    assert first.stats["xhs/notes/failed/invalid"] == 1
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        record = store.get_note(spoiled)
        runs = store.find_runs()
    assert record is not None and (record["status"], record["failed_reason"]) == ("failed", "invalid")
    assert runs[-1]["summary"]["notes"]["paid_without_note"] == {"invalid": 1}

    api.reset()
    await in_process_crawl(FeedSpider, oid=CHANNEL, pages="1")
    assert spoiled not in api.stats()["detail_billed_by_note"]
    api.reset()
    await in_process_crawl(FeedSpider, oid=CHANNEL, pages="1", refresh="true")
    assert api.stats()["detail_billed_by_note"][spoiled] == 1


@deferred_f_from_coro_f
async def test_a_detail_whose_callback_raised_is_not_paid_for_again(
    in_process_crawl: InProcessCrawl, api: SandboxProcess,
) -> None:
    FailingDetailSpider.failing = None
    first = await in_process_crawl(FailingDetailSpider, oid=CHANNEL, pages="1")
    assert first.stats["xhs/notes/failed/callback_error"] == 1
    api.reset()
    await in_process_crawl(FeedSpider, oid=CHANNEL, pages="1")
    assert FailingDetailSpider.failing not in api.stats()["detail_billed_by_note"]


@deferred_f_from_coro_f
async def test_a_pending_spill_is_replayed_before_anything_is_paid_for(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path: Path,
) -> None:
    # What an earlier run paid for, left in a spill file next to the store.
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere' / 'xhs.sqlite3'}"
    await in_process_crawl(FeedSpider, oid=CHANNEL, pages="2", settings={"XHS_STORE_URI": elsewhere})
    with open_store(elsewhere) as store:
        paid = [{k: note[k] for k in ("note_id", *DETAIL_FIELDS)} for note in store.iter_notes()
                if note["status"] == "ok"]
    spill_file = tmp_path / "spill-feed-earlier.jsonl"
    spill.append(spill_file, WriteBatch(run_id="feed-earlier", notes=paid))

    api.reset()
    again = await in_process_crawl(FeedSpider, oid=CHANNEL, pages="2")
    billed = api.stats()["detail_billed_by_note"]
    assert not set(billed) & {note["note_id"] for note in paid}
    assert again.stats["xhs/store/replayed"] == len(paid)
    assert "Replayed %d operations of %s" % (len(paid), spill_file) in again.log
    assert not spill_file.exists() and spill_file.with_name(spill_file.name + ".replayed").exists()


@deferred_f_from_coro_f
async def test_a_spill_that_cannot_be_replayed_stops_the_crawl_before_any_call(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path: Path,
) -> None:
    (tmp_path / "spill-feed-broken.jsonl").write_text("not json\n{}\n", encoding="utf-8")
    result = await in_process_crawl(FeedSpider, oid=CHANNEL, pages="1")
    assert result.finish_reason == "xhs_spill_pending"
    assert "spill-feed-broken.jsonl" in result.log
    assert api.stats()["calls"] == 0


def crawl_deleting_mid_crawl(
    api: SandboxProcess, tmp_path: Path, store_file: Path, delete: Callable[[], None],
) -> tuple[subprocess.CompletedProcess, dict[str, Any]]:
    """A feed crawl into *store_file*; *delete* runs once details flow."""
    api.configure(latency=0.1)
    stats_file = tmp_path / "stats.json"

    def delete_once_details_flow() -> None:
        while api.stats()["calls_by_endpoint"].get("detail", 0) < 8:
            threading.Event().wait(0.02)
        delete()

    deleter = threading.Thread(target=delete_once_details_flow, daemon=True)
    deleter.start()
    done = run_scrapy(
        ["crawl", "feed", "-a", f"oid={CHANNEL},homefeed_travel_v3", "-a", "pages=3",
         "-s", f"XHS_STORE_URI=sqlite:///{store_file}", "-s", f"JUSTONEAPI_BASE_URL={api.url}",
         "-s", "XHS_STORE_BATCH_SIZE=3", "-s", f"XHS_STATS_FILE={stats_file}"],
        env={"JUSTONEAPI_TOKEN": "test-token-Zq7Xw3Kp9Lm2Nv8Rt5Yb"},
    )
    deleter.join(timeout=5)
    assert done.returncode == 1, done.stderr[-2000:]
    return done, json.loads(stats_file.read_text("utf-8"))


def replayed_note_ids(spill_file: Path, store_file: Path) -> set[str]:
    """The notes fetched (ok or 201) once *spill_file* is replayed into *store_file*."""
    replay = run_scrapy(["replay-spill", str(spill_file), "-s", f"XHS_STORE_URI=sqlite:///{store_file}"])
    assert replay.returncode == 0, replay.stderr
    with open_store(f"sqlite:///{store_file}") as store:
        return {n["note_id"] for n in store.iter_notes() if n["status"] in ("ok", "unavailable")}


@pytest.mark.integration
def test_a_store_file_deleted_mid_crawl_ends_in_a_spill(api: SandboxProcess, tmp_path: Path) -> None:
    store_file = tmp_path / "xhs.sqlite3"

    def delete_the_file() -> None:
        for path in tmp_path.glob("xhs.sqlite3*"):
            path.unlink()

    _, stats = crawl_deleting_mid_crawl(api, tmp_path, store_file, delete_the_file)
    assert stats["finish_reason"] == "xhs_store_spilled"
    spills = list(tmp_path.glob("spill-*.jsonl"))
    assert len(spills) == 1
    # Everything the API billed is in the spill: replayed into a new store.
    assert replayed_note_ids(spills[0], store_file) == set(api.stats()["detail_billed_by_note"])


@pytest.mark.integration
def test_the_store_directory_deleted_mid_crawl_ends_in_a_spill(api: SandboxProcess, tmp_path: Path) -> None:
    # The journal lives in that directory too: it moves to the directory re-created.
    store_file = tmp_path / "data" / "xhs.sqlite3"
    done, stats = crawl_deleting_mid_crawl(api, tmp_path, store_file, lambda: shutil.rmtree(store_file.parent))
    assert stats["finish_reason"] == "xhs_store_spilled"
    named = [line for line in done.stderr.splitlines() if " ERROR: " in line and "spill-" in line]
    assert len(named) == 1, done.stderr[-3000:]
    spills = list(store_file.parent.glob("spill-*.jsonl"))
    assert len(spills) == 1 and f"replay-spill {spills[0]}" in named[0]
    assert stats["xhs/store/spill_file"] == str(spills[0])
    billed = set(api.stats()["detail_billed_by_note"])
    assert len(billed) == stats["justoneapi/billed/detail"] > 8
    with spills[0].open(encoding="utf-8") as lines:
        (batch,), torn = read_operations(lines)
    assert torn is None
    assert {note["note_id"] for note in batch.notes} | {note_id for note_id, _ in batch.unavailable} >= billed
    # The directory is back (the spill is in it): the store is made anew there.
    assert not store_file.exists()
    assert replayed_note_ids(spills[0], store_file) == billed


def test_a_spill_with_a_torn_last_line_replays_every_complete_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    notes = [{"note_id": f"{n:024x}", "crawled_at": "2026-11-22T10:00:00.000Z"} for n in range(5)]
    spill_file = tmp_path / "spill-feed-torn.jsonl"
    spill.append(spill_file, WriteBatch(run_id="feed-torn", notes=notes))
    whole = spill_file.read_text("utf-8")
    spill_file.write_text(whole[: len(whole) - 25], encoding="utf-8")  # died writing the last line
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store, caplog.at_level(logging.WARNING):
        assert spill.replay(spill_file, store) == 4
        assert store.count("notes") == 4
    assert "line 5 is cut short" in caplog.text

    broken_middle = tmp_path / "spill-feed-middle.jsonl"
    broken_middle.write_text("{broken\n" + whole, encoding="utf-8")
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store, pytest.raises(ValueError, match="line 1"):
        spill.replay(broken_middle, store)


@deferred_f_from_coro_f
@pytest.mark.integration
async def test_unfetched_notes_fetched_first_still_count_as_new_in_their_feed(
    in_process_crawl: InProcessCrawl, api: SandboxProcess,
) -> None:
    # What a killed run leaves: page 1 seen, no detail fetched.
    first = await in_process_crawl(FeedSpider, oid=CHANNEL, pages="1", details="false")
    seen = {a["note_id"] for a in first.appearances}
    api.reset()
    again = await in_process_crawl(FeedSpider, oid=CHANNEL, pages="3")
    assert again.stats["xhs/notes/unfetched"] == len(seen)
    assert again.stats["justoneapi/feed/pages"] == 3  # page 1 does not look stale
    billed = api.stats()["detail_billed_by_note"]
    assert seen < set(billed) and set(billed.values()) == {1}


def test_a_long_journal_is_replayed_in_chunks_of_a_batch(tmp_path: Path) -> None:
    notes = [{"note_id": f"{n:024x}", "crawled_at": "2026-11-22T10:00:00.000Z"} for n in range(1200)]
    batch = WriteBatch(run_id="feed-long", notes=notes, unavailable=[(f"{9999:024x}", "2026-11-22T10:00:01.000Z")])
    assert [len(chunk) for chunk in batch.chunks(500)] == [500, 500, 201]
    journal = tmp_path / "journal-feed-long.jsonl"
    spill.append(journal, batch)
    writes: list[int] = []

    class CountingStore(SqliteNoteStore):
        def write(self, batch: WriteBatch) -> None:
            writes.append(len(batch))
            super().write(batch)

    with CountingStore(tmp_path / "xhs.sqlite3") as store:
        assert spill.replay(journal, store) == 1201
        assert store.count("notes") == 1201
    assert max(writes) <= spill.REPLAY_CHUNK and sum(writes) == 1201
    assert not journal.exists()
