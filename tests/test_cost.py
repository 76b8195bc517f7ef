"""Cost, before and after: ``-a dry_run=true`` predicts at least the billed calls
the run then makes and makes none; the run summary says what the calls bought
and, when the budget stops a run, how many notes found were never fetched."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import InProcessCrawl
from xhs_spider import stats as keys
from xhs_spider.outcome.reasons import BUDGET_EXHAUSTED, DRY_RUN
from xhs_spider.spiders.dry_run import NOTES_PER_PAGE
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.spiders.note import NoteSpider
from xhs_spider.spiders.search import SearchSpider
from xhs_spider.store import open_store

CHANNELS = "homefeed_food_v3,homefeed_cosmetics_v3"
KEYWORD = "咖啡"


def _store_uri(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'xhs.sqlite3'}"


@deferred_f_from_coro_f
async def test_a_feed_dry_run_makes_no_call_and_predicts_at_least_what_the_run_bills(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    # An earlier run read one page of the feeds without details: notes seen, never fetched.
    await in_process_crawl(FeedSpider, oid=CHANNELS, pages="1", details="false")
    with open_store(_store_uri(tmp_path)) as store:
        unfetched = store.unfetched_note_ids(CHANNELS.split(","), None)
    assert unfetched
    api.reset()

    dry = await in_process_crawl(FeedSpider, oid=CHANNELS, pages="2", dry_run="true")

    assert api.stats()["calls"] == 0
    assert dry.finish_reason == DRY_RUN
    assert dry.items == []
    predicted = dry.stats[keys.DRY_RUN_BILLED_AT_MOST]
    # Feed pages, the unfetched notes, and every note the pages may show.
    assert predicted == len(unfetched) + 2 * 2 * (1 + NOTES_PER_PAGE["feed"])
    assert f"Dry run of feed: at most {predicted} billed calls (feed pages 4, note details " in dry.log
    assert "No call was made" in dry.log

    real = await in_process_crawl(FeedSpider, oid=CHANNELS, pages="2")

    assert real.finish_reason == "finished"
    billed = api.stats()["billed"]
    assert 0 < billed <= predicted
    assert api.stats()["billed_by_endpoint"]["detail"] >= len(unfetched)


@deferred_f_from_coro_f
async def test_a_dry_run_is_capped_by_the_budget(
    in_process_crawl: InProcessCrawl, api: SandboxProcess
) -> None:
    dry = await in_process_crawl(FeedSpider, oid=CHANNELS, pages="3", dry_run="true",
                                 settings={"JUSTONEAPI_MAX_BILLED_CALLS": "10"})

    assert api.stats()["calls"] == 0
    assert dry.stats[keys.DRY_RUN_BILLED_AT_MOST] == 10
    assert "the budget JUSTONEAPI_MAX_BILLED_CALLS=10 caps it" in dry.log


@deferred_f_from_coro_f
async def test_a_search_dry_run_makes_no_call_and_predicts_at_least_what_the_run_bills(
    in_process_crawl: InProcessCrawl, api: SandboxProcess
) -> None:
    dry = await in_process_crawl(SearchSpider, keyword=KEYWORD, pages="2", dry_run="true")

    assert api.stats()["calls"] == 0
    assert dry.finish_reason == DRY_RUN
    predicted = dry.stats[keys.DRY_RUN_BILLED_AT_MOST]
    assert predicted == 2 * (1 + NOTES_PER_PAGE["search"])

    real = await in_process_crawl(SearchSpider, keyword=KEYWORD, pages="2")

    assert real.finish_reason == "finished"
    assert 0 < api.stats()["billed"] <= predicted


@deferred_f_from_coro_f
async def test_a_note_dry_run_counts_the_ids_and_a_bad_dry_run_value_is_refused(
    in_process_crawl: InProcessCrawl, api: SandboxProcess
) -> None:
    dry = await in_process_crawl(NoteSpider, ids="64b7f5a1000000001e03a1b2,64b7f5a1000000001e03a1b3",
                                 comments="3", dry_run="true")

    assert api.stats()["calls"] == 0
    # Two details, and for each up to 3 comment pages and 3 × 20 reply pages.
    assert dry.stats[keys.DRY_RUN_BILLED_AT_MOST] == 2 + 2 * 3 + 2 * 3 * 20
    assert NoteSpider.check_arguments(ids="64b7f5a1000000001e03a1b2", dry_run="maybe") == (
        "-a dry_run='maybe': expected true or false.")


@deferred_f_from_coro_f
async def test_the_summary_says_what_the_billed_calls_bought_by_item_type(
    in_process_crawl: InProcessCrawl, api: SandboxProcess
) -> None:
    result = await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="2")

    sandbox = api.stats()["billed_by_endpoint"]
    block = result.log[result.log.index("Run summary"):]
    notes = len(result.notes)
    assert (f"  bought         {notes} notes ({result.stats[keys.NOTES_NEW]} new, 0 refreshed), "
            f"0 comments new, 0 updated for {sandbox['feed'] + sandbox['detail']} billed calls: "
            f"feed pages {sandbox['feed']}, note details {sandbox['detail']}") in block
    assert "not attempted" not in block


@deferred_f_from_coro_f
async def test_a_run_the_budget_stops_says_how_many_notes_found_were_never_fetched(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    result = await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="2",
                                    settings={"JUSTONEAPI_MAX_BILLED_CALLS": "5"})

    assert result.finish_reason == BUDGET_EXHAUSTED
    assert api.stats()["billed"] <= 5
    with open_store(_store_uri(tmp_path)) as store:
        unfetched = store.unfetched_note_ids(["homefeed_food_v3"], None)
        (run,) = store.find_runs()
    assert unfetched
    assert run["summary"]["notes"]["not_attempted"] == len(unfetched)
    block = result.log[result.log.index("Run summary"):]
    assert (f"  not attempted  {len(unfetched)} notes found were never fetched (the run ended "
            f"{BUDGET_EXHAUSTED}): scrapy crawl note -a unfetched=true fetches them") in block

    again = await in_process_crawl(NoteSpider, unfetched="true")

    assert again.finish_reason == "finished"
    assert {note["note_id"] for note in again.notes} <= set(unfetched)
    with open_store(_store_uri(tmp_path)) as store:
        assert store.unfetched_note_ids(["homefeed_food_v3"], None) == []
