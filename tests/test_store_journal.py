"""The run's journal when its file or directory goes away: every operation
not yet in the store ends in a spill file in a place that exists."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from xhs_spider.store import SqliteNoteStore, open_store, spill
from xhs_spider.store import journal as journal_module
from xhs_spider.store.batch import read_operations
from xhs_spider.store.journal import Journal
from xhs_spider.store.session import StoreSession

RUN_ID = "feed-20261122T100000Z-abcdef"


def note(number: int) -> dict[str, Any]:
    return {"note_id": f"{number:024x}", "crawled_at": "2026-11-22T10:00:00.000Z"}


def journaled_ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        batches, torn = read_operations(lines)
    assert torn is None
    return [data["note_id"] for batch in batches for data in batch.notes]


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary directory, for this test only."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def test_a_deleted_directory_is_recreated_with_everything_journaled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    journal = Journal.for_run(tmp_path / "data", RUN_ID)
    for number in range(3):
        journal.append("note", note(number))
    journal.stored(3)  # in the store, which went away with the directory
    shutil.rmtree(tmp_path / "data")
    with caplog.at_level(logging.WARNING):
        journal.append("note", note(3))
    journal.append("note", note(4))
    assert journal.path == tmp_path / "data" / f"journal-{RUN_ID}.jsonl"
    assert journaled_ids(journal.path) == [note(n)["note_id"] for n in range(5)]
    assert "is gone or cannot be written" in caplog.text and "everything it held" in caplog.text
    assert journal.keep_as(f"spill-{RUN_ID}.jsonl") == tmp_path / "data" / f"spill-{RUN_ID}.jsonl"
    assert [p.name for p in (tmp_path / "data").iterdir()] == [f"spill-{RUN_ID}.jsonl"]


def test_a_replaced_file_is_noticed_at_the_next_write(tmp_path: Path) -> None:
    journal = Journal.for_run(tmp_path, RUN_ID)
    journal.append("note", note(0))
    journal.path.unlink()
    journal.path.write_text("someone else's\n", encoding="utf-8")
    journal.append("note", note(1))
    assert journaled_ids(journal.path) == [note(0)["note_id"], note(1)["note_id"]]
    journal.discard()
    assert not list(tmp_path.iterdir())


def test_unreadable_old_file_is_rewritten_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    journal = Journal.for_run(tmp_path / "data", RUN_ID)
    for number in range(5):
        journal.append("note", note(number))
    journal.stored(3)
    shutil.rmtree(tmp_path / "data")

    def disk_error(*args: Any) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(journal_module.os, "pread", disk_error)
    with caplog.at_level(logging.WARNING):
        journal.append("note", note(5))
    # What the store holds is not kept twice: memory held only the rest.
    assert journaled_ids(journal.path) == [note(n)["note_id"] for n in (3, 4, 5)]
    assert "the 3 operations not yet in the store, from memory" in caplog.text
    journal.discard()


def test_a_journal_gone_before_it_is_kept_is_spilled_elsewhere(tmp_path: Path, temp_dir: Path) -> None:
    # The store noticed first: no write was left to notice the journal gone.
    journal = Journal.for_run(tmp_path / "parent" / "data", RUN_ID)
    journal.append("note", note(0))
    shutil.rmtree(tmp_path / "parent")
    (tmp_path / "parent").write_text("not a directory", encoding="utf-8")
    kept = journal.keep_as(f"spill-{RUN_ID}.jsonl")
    assert kept == temp_dir / f"spill-{RUN_ID}.jsonl"
    assert journaled_ids(kept) == [note(0)["note_id"]]


def test_nowhere_to_write_raises(tmp_path: Path, temp_dir: Path) -> None:
    journal = Journal.for_run(tmp_path / "data", RUN_ID)
    shutil.rmtree(tmp_path / "data")
    (tmp_path / "data").write_text("", encoding="utf-8")
    temp_dir.rmdir()
    temp_dir.write_text("", encoding="utf-8")
    with pytest.raises(OSError, match="journal-feed-"):
        journal.append("note", note(0))
    with pytest.raises(ValueError, match="closed"):
        journal.append("note", note(1))


async def crawl_losing(tmp_path: Path, settings: dict[str, str], lose: Callable[[], Any]) -> dict[str, Any]:
    """A run into ``parent/data/xhs.sqlite3``: 3 notes stored, then *lose*
    called, then 3 more notes; returns the run's stats."""
    crawler = get_crawler(settings_dict=settings)
    store = SqliteNoteStore(tmp_path / "parent" / "data" / "xhs.sqlite3")
    session = StoreSession(store, spill.spill_directory(crawler.settings, store), RUN_ID, RUN_ID)
    spilled: list[bool] = []
    await session.open(crawler.stats, retry_times=0, retry_backoff=0.0,
                       on_spill=lambda: spilled.append(True), on_loss=lambda: spilled.append(False))
    assert session.writer is not None
    for number in range(3):
        await session.add("note", note(number))
    await session.writer.flush()
    lose()
    for number in range(3, 6):
        await session.add("note", note(number))
    await session.close()
    assert spilled == [True]
    return crawler.stats.get_stats()


@deferred_f_from_coro_f
async def test_with_xhs_spill_dir_the_spill_goes_there(tmp_path: Path) -> None:
    spills = tmp_path / "spills"
    stats = await crawl_losing(tmp_path, {"XHS_SPILL_DIR": str(spills)},
                               lambda: shutil.rmtree(tmp_path / "parent" / "data"))
    kept = spills / f"spill-{RUN_ID}.jsonl"
    assert stats["xhs/store/spill_file"] == str(kept)
    assert journaled_ids(kept) == [note(n)["note_id"] for n in range(6)]


@deferred_f_from_coro_f
async def test_without_it_the_store_directory_is_recreated(tmp_path: Path) -> None:
    data = tmp_path / "parent" / "data"
    stats = await crawl_losing(tmp_path, {}, lambda: shutil.rmtree(data))
    kept = data / f"spill-{RUN_ID}.jsonl"
    assert stats["xhs/store/spill_file"] == str(kept)
    assert [path.name for path in data.iterdir()] == [kept.name]
    with open_store(f"sqlite:///{data / 'xhs.sqlite3'}") as store:
        assert spill.replay(kept, store) == 6
        assert store.count("notes") == 6


@deferred_f_from_coro_f
async def test_when_it_cannot_be_recreated_the_spill_goes_to_the_temp_dir(
    tmp_path: Path, temp_dir: Path,
) -> None:
    def replace_the_parent_by_a_file() -> None:
        shutil.rmtree(tmp_path / "parent")
        (tmp_path / "parent").write_text("", encoding="utf-8")

    stats = await crawl_losing(tmp_path, {}, replace_the_parent_by_a_file)
    kept = temp_dir / f"spill-{RUN_ID}.jsonl"
    assert stats["xhs/store/spill_file"] == str(kept)
    assert journaled_ids(kept) == [note(n)["note_id"] for n in range(6)]
    assert os.listdir(temp_dir) == [kept.name]
