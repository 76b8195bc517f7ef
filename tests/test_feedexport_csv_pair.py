"""``scrapy crawl feed -O notes.csv``: notes in that file, feed appearances beside it.

Whole crawls against the sandbox, as subprocesses: ``-O`` run twice leaves
one run's rows in both files, ``-o`` run twice doubles both; each file has
one header; the log and the run summary name both files.
"""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

import pytest

from sandbox import SandboxProcess
from tests.conftest import FAST_SETTINGS, TOKEN, run_scrapy
from tests.test_commands_crawl_bad_input import refused
from xhs_spider.exporters import csv_columns
from xhs_spider.schemas import load_schema
from xhs_spider.stats import ITEMS

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

NOTE_COLUMNS = csv_columns(load_schema("note"))
APPEARANCE_COLUMNS = csv_columns(load_schema("feed_appearance"))


def crawl_to_csv(api: SandboxProcess, tmp_path: Path, option: str, out: Path, run: int,
                 refresh: bool = True) -> tuple[dict, str]:
    """One feed crawl writing *out* with *option*; its stats and its log."""
    stats, log = tmp_path / f"stats{run}.json", tmp_path / f"crawl{run}.log"
    settings = {**FAST_SETTINGS, "JUSTONEAPI_BASE_URL": api.url, "XHS_STATS_FILE": str(stats),
                "XHS_STORE_URI": f"sqlite:///{tmp_path / 'xhs.sqlite3'}", "LOG_LEVEL": "INFO"}
    args = ["crawl", "feed", "-a", "oid=homefeed_food_v3", "-a", "pages=2",
            # Every run pays for its notes again: each run yields notes.
            "-a", f"refresh={str(refresh).lower()}", option, str(out), "--logfile", str(log)]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    done = run_scrapy(args, env={"JUSTONEAPI_TOKEN": TOKEN})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(stats.read_text("utf-8")), log.read_text("utf-8")


def rows(path: Path) -> list[list[str]]:
    content = path.read_bytes()
    assert content.startswith(codecs.BOM_UTF8) and content.count(codecs.BOM_UTF8) == 1
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


@pytest.mark.parametrize(("option", "runs_kept"), [("-O", 1), ("-o", 2)])
def test_a_csv_feed_of_the_feed_spider_is_two_files_overwritten_or_appended(api, tmp_path, option, runs_kept):
    out = tmp_path / "exports" / "notes.csv"
    beside = tmp_path / "exports" / "notes.appearances.csv"
    counts = []
    for run in range(2):
        stats, log = crawl_to_csv(api, tmp_path, option, out, run)
        notes = stats[ITEMS.format(item_type="NoteItem")]
        appearances = stats[ITEMS.format(item_type="FeedAppearanceItem")]
        assert notes > 0 and appearances > 0
        counts.append((notes, appearances))
        assert f"Feeds: notes to {out}, feed appearances to {beside}" in log
        summary = log[log.index("Run summary"):]
        assert f"feed files     {out} (notes), {beside} (feed appearances)" in summary

    note_rows, appearance_rows = rows(out), rows(beside)
    # One header each, the right one: the other type's items never got in.
    assert note_rows[0] == NOTE_COLUMNS and appearance_rows[0] == APPEARANCE_COLUMNS
    assert sum(row == NOTE_COLUMNS for row in note_rows) == 1
    assert sum(row == APPEARANCE_COLUMNS for row in appearance_rows) == 1
    assert all(len(row) == len(NOTE_COLUMNS) for row in note_rows)
    assert all(len(row) == len(APPEARANCE_COLUMNS) for row in appearance_rows)
    kept = counts[-runs_kept:]
    assert len(note_rows) - 1 == sum(notes for notes, _ in kept)
    assert len(appearance_rows) - 1 == sum(appearances for _, appearances in kept)
    assert sorted(path.name for path in out.parent.iterdir()) == ["notes.appearances.csv", "notes.csv"]


def test_a_rerun_without_new_notes_leaves_the_notes_file_its_header(api, tmp_path):
    out = tmp_path / "notes.csv"
    crawl_to_csv(api, tmp_path, "-O", out, 0)
    stats, _ = crawl_to_csv(api, tmp_path, "-O", out, 1, refresh=False)
    assert stats.get(ITEMS.format(item_type="NoteItem"), 0) == 0  # every note fresh
    assert rows(out) == [NOTE_COLUMNS]  # a file pandas and spreadsheets open, not 0 bytes
    appearances = rows(tmp_path / "notes.appearances.csv")
    assert appearances[0] == APPEARANCE_COLUMNS
    assert len(appearances) - 1 == stats[ITEMS.format(item_type="FeedAppearanceItem")] > 0


#: Each unusable feed, as (its -O argument under the test's directory, words of the error).
UNUSABLE_FEEDS = {
    "in /proc": ("/proc/x.csv", "FEEDS='/proc/x.csv': cannot write there"),
    "parent is a file": ("a-file/x.csv", "a-file is not a directory"),
    "grandparent is a file": ("a-file/deep/x.csv", "cannot write there (Not a directory)"),
    "a directory": ("taken.csv", "taken.csv': cannot write there (it is a directory)"),
    "a directory, as a file URI": ("file://{tmp}/taken.jsonl", "(it is a directory)"),
    "the appearances file beside it a directory": ("n.csv", "n.appearances.csv': cannot write there"),
}


@pytest.mark.parametrize("case", list(UNUSABLE_FEEDS))
def test_an_unusable_feed_file_is_one_line_exit_2_before_any_call(api, tmp_path, case):
    (tmp_path / "a-file").write_text("")
    for directory in ("taken.csv", "taken.jsonl", "n.appearances.csv"):
        (tmp_path / directory).mkdir()
    out, words = UNUSABLE_FEEDS[case]
    out = out.format(tmp=tmp_path) if "://" in out else str(tmp_path / out)

    line = refused(api, tmp_path, "feed", "-a", "oid=homefeed_food_v3", "-O", out)

    assert line.startswith("Error: Setting FEEDS=") and words in line
    assert not (tmp_path / "n.csv").exists()  # and refused() saw no API call
