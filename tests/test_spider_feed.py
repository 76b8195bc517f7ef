"""The ``feed`` spider: its arguments, and whole crawls against the sandbox, in-process."""

from __future__ import annotations

from collections import Counter

from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import InProcessCrawl, feed_note_ids
from xhs_spider.spiders.feed import FeedSpider

TWO_CHANNELS = "homefeed_food_v3,homefeed_travel_v3"


def test_scrapyd_job_argument_passes_through():
    assert FeedSpider.check_arguments(oid="homefeed_food_v3", _job="6487ec7f") is None
    spider = FeedSpider(oid="homefeed_food_v3", _job="6487ec7f")
    assert spider._job == "6487ec7f"
    assert spider.run_arguments == {"oid": "homefeed_food_v3"}


@deferred_f_from_coro_f
async def test_one_note_per_distinct_note_and_one_appearance_per_card(
    in_process_crawl: InProcessCrawl, api: SandboxProcess
) -> None:
    result = await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="3")

    assert result.finish_reason == "finished"
    assert "WARNING" not in result.log and "ERROR" not in result.log
    appearances, notes = result.appearances, result.notes
    assert appearances and notes
    places = Counter((a["channel"], a["page"], a["position"]) for a in appearances)
    assert max(places.values()) == 1
    assert {a["channel"] for a in appearances} == {"homefeed_food_v3", "homefeed_travel_v3"}
    assert {a["page"] for a in appearances} <= {1, 2, 3}

    distinct = {a["note_id"] for a in appearances}
    served = api.stats()
    detail_calls = served["detail_billed_by_note"]
    # Every distinct note was asked for exactly once, and nothing else was.
    assert set(detail_calls) == distinct
    assert set(detail_calls.values()) == {1}
    assert served["calls_by_endpoint"]["detail"] == len(distinct)
    # One note item per note the API did not answer 201 (unavailable) for.
    note_ids = [n["note_id"] for n in notes]
    assert len(note_ids) == len(set(note_ids))
    unavailable = result.stats.get("justoneapi/notes/unavailable", 0)
    assert len(note_ids) + unavailable == len(distinct)
    assert result.stats["justoneapi/billed"] == served["billed"]
    assert result.stats["justoneapi/requests"] == served["calls"]


@deferred_f_from_coro_f
async def test_card_counts_match_what_the_sandbox_served(
    in_process_crawl: InProcessCrawl, api: SandboxProcess
) -> None:
    result = await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="2", details="false")

    assert result.finish_reason == "finished"
    served = api.stats()
    assert served["calls_by_endpoint"].get("detail", 0) == 0
    assert result.notes == []
    expected = []
    for page in (1, 2):
        expected += [(page, note_id) for note_id in feed_note_ids(api, "homefeed_food_v3", page)]
    assert [(a["page"], a["note_id"]) for a in result.appearances] == expected
    skipped = sum(v for k, v in result.stats.items() if k.startswith("justoneapi/feed/cards_skipped/"))
    assert result.stats["justoneapi/feed/cards"] == len(expected) + skipped


@deferred_f_from_coro_f
async def test_flaky_api_loses_no_note(in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path) -> None:
    clean = await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="3")
    clean_notes = {n["note_id"] for n in clean.notes}

    api.reset()
    api.configure(
        faults={"301": 0.1, "500": 0.1, "302": 0.1},
        malformed_rate=0.04, truncated_rate=0.03, html_error_rate=0.03,
    )
    flaky = await in_process_crawl(
        FeedSpider, oid=TWO_CHANNELS, pages="3",
        settings={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'flaky.sqlite3'}"},
    )

    assert flaky.finish_reason == "finished"
    assert {n["note_id"] for n in flaky.notes} == clean_notes
    assert len(flaky.appearances) == len(clean.appearances)
    stats = flaky.stats
    assert stats["justoneapi/retry/count"] > 0
    assert stats["justoneapi/rate_limited"] > 0
    assert stats["justoneapi/invalid_body"] > 0
    assert "justoneapi/give_up" not in stats
    # Scrapy's RetryMiddleware never retried what BusinessCodeMiddleware handled.
    assert "retry/count" not in stats
    served = api.stats()
    assert set(served["detail_billed_by_note"].values()) == {1}
    assert stats["justoneapi/billed"] == served["billed"]


@deferred_f_from_coro_f
async def test_quota_stops_the_crawl_within_the_concurrency(
    in_process_crawl: InProcessCrawl, api: SandboxProcess
) -> None:
    quota = 12
    api.configure(quota=quota)
    result = await in_process_crawl(
        FeedSpider, oid=TWO_CHANNELS, pages="3", settings={"CONCURRENT_REQUESTS": 4}
    )

    assert result.finish_reason == "justoneapi_daily_quota_exceeded"
    served = api.stats()
    assert served["billed"] == quota
    assert served["calls"] <= quota + 4
    assert "Daily Quota Exceeded" in result.log


@deferred_f_from_coro_f
async def test_unavailable_notes_are_paid_once_and_not_retried(
    in_process_crawl: InProcessCrawl, api: SandboxProcess
) -> None:
    api.configure(unavailable_rate=0.5)
    result = await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="2")

    served = api.stats()
    unavailable = result.stats["justoneapi/notes/unavailable"]
    assert unavailable > 0
    assert served["codes"]["201"] == unavailable
    assert set(served["detail_billed_by_note"].values()) == {1}
    assert result.finish_reason == "finished"


@deferred_f_from_coro_f
async def test_a_paused_crawl_resumes_without_paying_twice(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    jobdir = tmp_path / "job"
    settings = {"JOBDIR": str(jobdir), "CONCURRENT_REQUESTS": "2"}
    api.configure(quota=15)
    first = await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="3", settings=settings)
    assert first.finish_reason == "justoneapi_daily_quota_exceeded"

    api.configure(quota=None)  # the next day: the quota is back
    second = await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="3", settings=settings)
    assert second.finish_reason == "finished"

    expected = set()
    for oid in ("homefeed_food_v3", "homefeed_travel_v3"):
        for page in (1, 2, 3):
            expected.update(feed_note_ids(api, oid, page))
    billed = api.stats()["detail_billed_by_note"]
    assert set(billed) == expected
    assert set(billed.values()) == {1}
    fetched = {n["note_id"] for n in first.notes} | {n["note_id"] for n in second.notes}
    assert len(first.notes) + len(second.notes) == len(fetched)
