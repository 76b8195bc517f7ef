"""Downstream of a real ``search`` crawl: ``scrapy export appearances --source
keyword:...`` holds exactly that keyword's appearances, ``scrapy report`` has
the keyword's section, and ``scrapy export`` reads a store made before the
other sources without a crawl having migrated it."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from contextlib import closing
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxProcess
from tests.conftest import run_scrapy
from tests.source_items import found_note_id
from tests.test_commands_export import read_export
from tests.test_spider_discovery import truth_places
from tests.test_store_migration import OLD_CARDS, OLD_NOTES, old_sqlite_store

#: Every test here runs a crawl or a command as a subprocess.
pytestmark = pytest.mark.integration

COFFEE, CAMPING = "咖啡", "露营"
PAGES = 2


def places(rows: list[dict[str, Any]]) -> Counter[tuple[str, int, int]]:
    return Counter((row["note_id"], int(row["page"]), int(row["rank"])) for row in rows)


@pytest.fixture
def searched(api: SandboxProcess, crawl: Any, tmp_path: Path) -> tuple[Any, str]:
    """A ``search`` of two keywords into the test's store."""
    done = crawl("search", f"keyword={COFFEE},{CAMPING}", f"pages={PAGES}")
    assert (done.returncode, done.finish_reason) == (0, "finished"), done.log[-3000:]
    return done, f"sqlite:///{tmp_path / 'xhs.sqlite3'}"


def test_export_of_a_searched_keyword_holds_exactly_its_appearances(
    api: SandboxProcess, searched: tuple[Any, str], tmp_path: Path,
) -> None:
    done, store_uri = searched
    found = [item for item in done.items if item.get("source_value") == COFFEE]
    assert found and any(item.get("source_value") == CAMPING for item in done.items)
    path = tmp_path / "x.csv"
    exported = run_scrapy(["export", "appearances", "--source", f"keyword:{COFFEE}", "-o", str(path)],
                          env={"XHS_STORE_URI": store_uri})
    assert exported.returncode == 0, exported.stderr
    _, rows = read_export(path)
    assert {(row["source_kind"], row["source_value"]) for row in rows} == {("keyword", COFFEE)}
    assert places(rows) == places(found)
    # And the sandbox's ground truth: each place the keyword's pages show a note.
    truth = truth_places(api.discovery("keyword", COFFEE), PAGES)
    assert Counter((row["note_id"], int(row["page"])) for row in rows) == truth
    assert f"Exported {len(rows)} appearances" in exported.stdout


def test_the_report_has_the_searched_keyword_s_section(
    searched: tuple[Any, str], tmp_path: Path,
) -> None:
    done, store_uri = searched
    path = tmp_path / "report.html"
    made = run_scrapy(["report", "-o", str(path)], env={"XHS_STORE_URI": store_uri})
    assert made.returncode == 0, made.stderr
    page = path.read_text("utf-8")
    for keyword in (COFFEE, CAMPING):
        assert f'<h2 id="keyword-{keyword}">Keyword: {keyword}</h2>' in page
        top = re.search(rf'<table id="top-keyword-{keyword}">(.*?)</table>', page, re.S)
        assert top is not None
        listed = set(re.findall(r">([0-9a-f]{24})</a>", unescape(top.group(1))))
        found = {item["note_id"] for item in done.items
                 if item.get("source_value") == keyword}
        # The keyword's top notes are notes the search found under it.
        assert listed and listed <= found, (keyword, listed - found)
    assert f"keyword:{COFFEE}" in page  # its column of appearances per day


def test_export_reads_a_store_of_the_first_release_that_no_crawl_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old" / "xhs.sqlite3"
    old_sqlite_store(path)  # the first release's tables only, never opened by this one
    env = {"XHS_STORE_URI": f"sqlite:///{path}"}
    notes, appearances = tmp_path / "notes.csv", tmp_path / "appearances.csv"
    for collection, output in (("notes", notes), ("appearances", appearances)):
        done = run_scrapy(["export", collection, "-o", str(output)], env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    _, rows = read_export(notes)
    assert sorted(row["note_id"] for row in rows) == sorted(map(found_note_id, OLD_NOTES))
    _, rows = read_export(appearances)
    assert sorted((row["note_id"], row["source_kind"], row["source_value"]) for row in rows) == sorted(
        (card["note_id"], "channel", card["channel"]) for card in OLD_CARDS)
    with closing(sqlite3.connect(path)) as connection:  # read, never migrated
        assert "sources" not in {row[1] for row in connection.execute("PRAGMA table_info(notes)")}
