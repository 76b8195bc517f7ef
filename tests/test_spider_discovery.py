"""The search, user and topic spiders end to end against the sandbox: an
appearance per place a note was found, one paid detail per note, paging that
stops, unreadable answers kept and failing the run, bad input refused."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import CrawlOutput, InProcessCrawl
from xhs_spider.spiders.search import SearchSpider
from xhs_spider.spiders.topic import TopicSpider
from xhs_spider.spiders.user import UserSpider

KEYWORD = "咖啡"


def appearances(output: CrawlOutput) -> Counter[tuple[str, int]]:
    return Counter((item["note_id"], item["page"]) for item in output.items
                   if "source_kind" in item)


def truth_places(truth: dict[str, Any], pages: int) -> Counter[tuple[str, int]]:
    """Each (note, page) the first *pages* pages of a list show, as many times as shown."""
    return Counter((note_id, number) for number, page in enumerate(truth["pages"][:pages], 1)
                   for note_id in page)


def billed_details(api: SandboxProcess) -> dict[str, int]:
    return dict(api.stats().get("detail_billed_by_note", {}))


def creator(api: SandboxProcess, least_notes: int) -> str:
    return next(c["userId"] for c in api.discovery("creators")["creators"]
                if c["note_count"] >= least_notes)


def assert_found_once_paid_once(api: SandboxProcess, output: CrawlOutput,
                                truth: dict[str, Any], pages: int) -> None:
    assert output.finish_reason == "finished", output.log[-3000:]
    assert appearances(output) == truth_places(truth, pages)
    found = {note_id for page in truth["pages"][:pages] for note_id in page}
    billed = billed_details(api)
    assert set(billed) == found and set(billed.values()) == {1}
    by_request = api.stats()["discovery_billed_by_request"]
    assert by_request and set(by_request.values()) == {1}, "a page was paid for twice"


@deferred_f_from_coro_f
async def test_search_finds_each_note_where_it_is_and_pays_its_detail_once(
    api: SandboxProcess, in_process_crawl: InProcessCrawl,
) -> None:
    output = await in_process_crawl(SearchSpider, keyword=KEYWORD, pages="2")
    truth = api.discovery("keyword", KEYWORD)
    assert truth["duplicates"] or len(truth["pages"]) >= 2
    assert_found_once_paid_once(api, output, truth, 2)
    assert {item["source_value"] for item in output.items if "source_kind" in item} == {KEYWORD}
    # Again within the TTL: the pages are read, no detail is paid for.
    again = await in_process_crawl(SearchSpider, keyword=KEYWORD, pages="2")
    assert again.finish_reason == "finished"
    assert set(billed_details(api).values()) == {1}
    assert appearances(again) == truth_places(truth, 2)


@deferred_f_from_coro_f
async def test_topic_pages_by_cursor_and_pays_each_note_once(
    api: SandboxProcess, in_process_crawl: InProcessCrawl,
) -> None:
    topic = api.discovery("topics")["topics"][0]["topicId"]
    output = await in_process_crawl(TopicSpider, topic=topic, pages="3")
    assert_found_once_paid_once(api, output, api.discovery("topic", topic), 3)


@deferred_f_from_coro_f
async def test_a_second_user_run_pays_only_for_the_creator_s_new_notes(
    api: SandboxProcess, in_process_crawl: InProcessCrawl,
) -> None:
    user_id = creator(api, 25)
    first = await in_process_crawl(UserSpider, user=user_id)
    truth = api.discovery("user", user_id)
    assert_found_once_paid_once(api, first, truth, len(truth["pages"]))
    assert [item["user_id"] for item in first.items if "red_id" in item] == [user_id]
    before = api.stats()
    added = api.grow(user_id, 3)
    second = await in_process_crawl(UserSpider, user=user_id)
    after = api.stats()
    assert second.finish_reason == "finished", second.log[-3000:]
    new_details = {n: c - before["detail_billed_by_note"].get(n, 0)
                   for n, c in after["detail_billed_by_note"].items()}
    assert {n for n, c in new_details.items() if c} == set(added)
    # One page of the list, and no profile (fetched within XHS_DETAIL_TTL).
    assert after["billed_by_endpoint"]["user_notes"] - before["billed_by_endpoint"]["user_notes"] == 1
    assert after["billed_by_endpoint"]["user"] == before["billed_by_endpoint"]["user"] == 1
    assert second.stats["xhs/discovery/stopped/stored_note"] == 1


@deferred_f_from_coro_f
async def test_a_repeating_cursor_ends_paging_after_one_repeat(
    api: SandboxProcess, in_process_crawl: InProcessCrawl,
) -> None:
    user_id = creator(api, 35)
    api.configure(discovery_stuck_page=2)
    output = await in_process_crawl(UserSpider, user=user_id, full="true", details="false")
    assert output.finish_reason == "finished"
    stats = api.stats()
    assert stats["billed_by_endpoint"]["user_notes"] == 2
    assert set(stats["discovery_billed_by_request"].values()) == {1}
    assert sum(v for k, v in output.stats.items() if k.startswith("xhs/discovery/stopped/")) == 1


@pytest.mark.integration
def test_overlapping_search_runs_pay_each_note_once(api: SandboxProcess, crawl: Any) -> None:
    api.configure(latency=0.05)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda keywords: crawl("search", f"keyword={keywords}", "pages=2"),
                             (KEYWORD, f"{KEYWORD},露营")))
    assert [run.returncode for run in runs] == [0, 0], runs[0].log[-2000:] + runs[1].log[-2000:]
    billed = billed_details(api)
    both = set.intersection(*({item["note_id"] for item in run.items if "source_kind" in item}
                              for run in runs))
    assert both, "the two runs did not overlap"
    assert billed and set(billed.values()) == {1}


@deferred_f_from_coro_f
async def test_budget_and_rate_hold(api: SandboxProcess, in_process_crawl: InProcessCrawl) -> None:
    output = await in_process_crawl(SearchSpider, keyword=KEYWORD, pages="3",
                                    settings={"JUSTONEAPI_MAX_BILLED_CALLS": "7"})
    assert output.finish_reason == "justoneapi_budget_exhausted"
    assert sum(api.stats()["billed_by_endpoint"].values()) <= 7


def calls(api: SandboxProcess) -> dict[str, int]:
    return {endpoint: count for endpoint, count in api.stats()["calls_by_endpoint"].items() if count}


def raw_answers(store: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(store) as connection:
        return [json.loads(row[0]) for row in connection.execute("SELECT record FROM raw_answers")]


@pytest.mark.integration
def test_an_unreadable_shape_ends_with_its_own_reason_and_keeps_the_raw_answers(
    api: SandboxProcess, crawl: Any, tmp_path: Path,
) -> None:
    api.configure(discovery_shape="unreadable")
    done = crawl("search", f"keyword={KEYWORD}", "pages=2")
    assert done.returncode == 1, done.log[-3000:]
    assert done.stats["finish_reason"] == "justoneapi_unreadable_answers"
    assert "The search endpoint answered code 0" in done.log and "raw_answers" in done.log
    kept = raw_answers(tmp_path / "xhs.sqlite3")
    assert len(kept) == 1 and '"weird"' in kept[0]["body"]
    assert calls(api) == {"search": 1}


@pytest.mark.integration
@pytest.mark.parametrize(("spider", "argument", "message"), [
    ("search", "keyword=", "-a keyword='': empty"),
    ("search", "sort=populer", "Did you mean 'popular'?"),
    ("user", "user=https://www.instagram.com/user/profile/5a1b2c3d4e5f60718293a4b5",
     "expected a user id"),
    ("note", "ids=https://bit.ly/abc", "xhslink.com"),
])
def test_bad_input_is_one_line_exit_2_and_no_call(
    api: SandboxProcess, crawl: Any, spider: str, argument: str, message: str,
) -> None:
    arguments = [argument] if spider != "search" or argument.startswith("keyword") else [
        f"keyword={KEYWORD}", argument]
    done = crawl(spider, *arguments)
    assert done.returncode == 2, done.stdout[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], done.stdout
    assert calls(api) == {}


@deferred_f_from_coro_f
async def test_the_rate_cap_holds(api: SandboxProcess, in_process_crawl: InProcessCrawl) -> None:
    api.configure(rate_limit=10)
    output = await in_process_crawl(SearchSpider, keyword=KEYWORD, pages="2",
                                    settings={"JUSTONEAPI_MAX_RPS": "8"})
    assert output.finish_reason == "finished"
    assert output.stats.get("justoneapi/rate_limited", 0) == 0
    assert output.stats["justoneapi/requests/search"] == 2
