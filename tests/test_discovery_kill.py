"""A ``search`` crawl killed hard (SIGKILL) mid-way and run again with the
same ``JOBDIR``: together the two runs pay again at most for the calls in
flight at the kill, store every note found once, and hold every place the
keywords' pages showed a note (the sandbox's ground truth)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxProcess
from tests.test_crawl_recovery import (
    CONCURRENT_REQUESTS,
    Crawler,
    assert_no_token_in,
    detail_calls_at_least,
    sigkill,
)
from xhs_spider.store import open_store

#: Every test here starts a crawl as a subprocess.
pytestmark = pytest.mark.integration

#: 咖啡 has three search pages in the sandbox, 露营 two.
KEYWORDS = ("咖啡", "露营")
PAGES = 3


class SearchCrawler(Crawler):
    """The same ``scrapy crawl search`` command, with the feed kill tests' settings."""

    def __init__(self, api: SandboxProcess, tmp_path: Path) -> None:
        super().__init__(api, tmp_path, jobdir=True, extra={})
        settings = self.args[self.args.index("-s"):]
        self.args = ["crawl", "search", "-a", f"keyword={','.join(KEYWORDS)}",
                     "-a", f"pages={PAGES}", *settings]


def search_calls_at_least(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda served: served["calls_by_endpoint"].get("search", 0) >= count


def truth(api: SandboxProcess) -> dict[tuple[str, int], list[str]]:
    """(keyword, page) → the note ids the page shows, in order."""
    return {(keyword, number): page for keyword in KEYWORDS
            for number, page in enumerate(api.discovery("keyword", keyword)["pages"][:PAGES], 1)}


KILL_POINTS = {
    # The first page of a keyword answered, the next pages and details in flight.
    "during search pages": search_calls_at_least(2),
    "during details": detail_calls_at_least(20),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_search_run_again_pays_only_for_the_calls_in_flight(
    api: SandboxProcess, tmp_path: Path, point: str,
) -> None:
    api.configure(latency=0.15)  # a kill finds calls in flight
    crawler = SearchCrawler(api, tmp_path)
    crawler.stop_when(crawler.start(), KILL_POINTS[point], sigkill)
    assert_no_token_in(tmp_path)
    crawler.run_to_the_end()

    pages = truth(api)
    found = {note_id for page in pages.values() for note_id in page}
    served = api.stats()
    billed_details = served["detail_billed_by_note"]
    billed_pages = served["discovery_billed_by_request"]
    assert set(billed_details) == found
    assert len(billed_pages) == len(pages), billed_pages
    # In flight at the kill: the downloads (CONCURRENT_REQUESTS), and per
    # keyword at most the one page answered but not yet recorded (a source
    # pages one page at a time; its record is journaled just after).
    details_again = sum(billed_details.values()) - len(billed_details)
    pages_again = {request: times - 1 for request, times in billed_pages.items() if times > 1}
    assert details_again <= CONCURRENT_REQUESTS, billed_details
    assert len(pages_again) <= len(KEYWORDS) and set(pages_again.values()) <= {1}, pages_again
    assert {endpoint for endpoint, count in served["billed_by_endpoint"].items() if count} == {
        "search", "detail"}

    with open_store(crawler.store_uri) as store:
        notes = {note["note_id"]: note["status"] for note in store.iter_notes()}
        appearances = store.records("feed_appearances")
        runs = store.find_runs()
    assert set(notes) == found and set(notes.values()) <= {"ok", "unavailable"}
    # Every place a note was shown, in one run or the other; none made up.
    places = {(a["source_value"], a["page"], a["rank"], a["note_id"]) for a in appearances}
    assert places == {(keyword, number, rank, note_id) for (keyword, number), page in pages.items()
                      for rank, note_id in enumerate(page, 1)}
    assert {a["source_kind"] for a in appearances} == {"keyword"}
    assert runs[-1]["finish_reason"] == "finished" and len(runs) in (1, 2)
    assert not list(tmp_path.glob("journal-*.jsonl"))
