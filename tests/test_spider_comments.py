"""The comments spider (and -a comments=N) end to end against the sandbox:
every comment and reply of a note once, caps exact, paging that stops,
re-runs that pay only for what is new, unreadable answers and bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import CrawlOutput, InProcessCrawl, feed_note_ids
from xhs_spider.spiders.comments import CommentsSpider
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.spiders.note import NoteSpider
from xhs_spider.store import open_store

#: Without the store: paging alone (no leases, nothing stored before).
NO_STORE = {"ITEM_PIPELINES": {"xhs_spider.pipelines.store.StorePipeline": None},
            "EXTENSIONS": {"xhs_spider.extensions.freshness.Freshness": None}}


@pytest.fixture
def comments_api(api: SandboxProcess) -> SandboxProcess:
    api.configure(comment_shape="mixed", comment_stuck_page=None, unavailable_rate=0)
    return api


def busy_note(api: SandboxProcess, least: int = 150) -> str:
    """A note of the feed whose thread holds at least *least* comments and replies."""
    notes = [n for page in (1, 2, 3) for n in feed_note_ids(api, "homefeed_recommend", page)]
    return next(note_id for note_id in notes if api.comments(note_id)["count"] >= least)


def comment_ids(output: CrawlOutput) -> Counter[str]:
    return Counter(item["comment_id"] for item in output.items if "parent_id" in item)


def billed_pages(api: SandboxProcess) -> dict[str, int]:
    return dict(api.stats().get("comments_billed_by_request", {}))


def truth_ids(truth: dict[str, Any]) -> set[str]:
    return {c["id"] for c in truth["comments"]} | {r["id"] for r in truth["replies"]}


@deferred_f_from_coro_f
async def test_every_comment_and_reply_of_a_note_once_each_page_paid_once(
    comments_api: SandboxProcess, in_process_crawl: InProcessCrawl,
) -> None:
    note_id = busy_note(comments_api)
    output = await in_process_crawl(CommentsSpider, settings=NO_STORE, ids=note_id,
                                    max_comments="1000", max_replies="1000")
    assert output.finish_reason == "finished", output.log[-3000:]
    truth = comments_api.comments(note_id, "latest")
    found = comment_ids(output)
    assert set(found) == truth_ids(truth) and set(found.values()) == {1}
    billed = billed_pages(comments_api)
    assert billed and set(billed.values()) == {1}, "a page was paid for twice"
    # No reply page for a comment whose replies all came inline.
    asked = {key.split("|")[2] for key in billed if key.startswith("sub_comments|")}
    complete = {c["id"] for c in truth["comments"] if len(c["inline"]) >= c["sub_comment_count"]}
    assert not asked & complete
    parents = {item["comment_id"]: item["parent_id"] for item in output.items if "parent_id" in item}
    assert {r["id"]: r["parent_id"] for r in truth["replies"]} == {
        k: v for k, v in parents.items() if v is not None}


@deferred_f_from_coro_f
async def test_caps_are_exact(comments_api: SandboxProcess, in_process_crawl: InProcessCrawl) -> None:
    note_id = busy_note(comments_api)
    output = await in_process_crawl(CommentsSpider, settings=NO_STORE, ids=note_id,
                                    max_comments="15", max_replies="4")
    assert output.finish_reason == "finished", output.log[-3000:]
    truth = comments_api.comments(note_id, "latest")
    top = [item for item in output.items if item.get("level") == 1]
    assert [item["comment_id"] for item in top] == [c["id"] for c in truth["comments"][:15]]
    replies = Counter(item["parent_id"] for item in output.items if item.get("level") == 2)
    for comment in truth["comments"][:15]:
        assert replies.get(comment["id"], 0) == min(4, comment["sub_comment_count"])
    no_replies = await in_process_crawl(CommentsSpider, settings=NO_STORE, ids=note_id,
                                        max_comments="5", max_replies="0")
    assert [item["level"] for item in no_replies.items if "level" in item] == [1] * 5


@deferred_f_from_coro_f
async def test_a_repeating_cursor_ends_paging_with_no_page_paid_twice(
    comments_api: SandboxProcess, in_process_crawl: InProcessCrawl,
) -> None:
    note_id = busy_note(comments_api)
    comments_api.configure(comment_stuck_page=3)
    output = await in_process_crawl(CommentsSpider, settings=NO_STORE, ids=note_id,
                                    max_comments="1000", max_replies="0")
    assert output.finish_reason == "finished", output.log[-3000:]
    billed = billed_pages(comments_api)
    assert set(billed.values()) == {1}
    assert sum(1 for key in billed if key.startswith("comments|")) == 3
    assert len(comment_ids(output)) == 20


def store_of(tmp_path: Path) -> str:
    """The embedded store the test's in-process crawls share."""
    return f"sqlite:///{tmp_path / 'xhs.sqlite3'}"


def billed_by_endpoint(api: SandboxProcess, endpoint: str) -> int:
    return int(api.stats()["billed_by_endpoint"].get(endpoint, 0))


@deferred_f_from_coro_f
async def test_a_re_run_with_nothing_new_makes_no_comment_call(
    comments_api: SandboxProcess, in_process_crawl: InProcessCrawl, tmp_path: Path,
) -> None:
    note_id = busy_note(comments_api)
    fetched = await in_process_crawl(NoteSpider, ids=note_id)
    assert fetched.finish_reason == "finished", fetched.log[-3000:]
    first = await in_process_crawl(CommentsSpider, stored="true", max_comments="1000",
                                   max_replies="1000")
    assert first.finish_reason == "finished", first.log[-3000:]
    truth = comments_api.comments(note_id, "latest")
    with open_store(store_of(tmp_path)) as store:
        assert store.count("comments") == len(truth_ids(truth))
        note = store.get_note(note_id)
    assert note is not None and note["comments_fetched_at"] is not None
    before = comments_api.stats()["calls_by_endpoint"]
    again = await in_process_crawl(CommentsSpider, stored="true", max_comments="1000",
                                   max_replies="1000")
    assert again.finish_reason == "finished", again.log[-3000:]
    after = comments_api.stats()["calls_by_endpoint"]
    for endpoint in ("comments", "sub_comments"):
        assert after.get(endpoint, 0) == before.get(endpoint, 0), endpoint
    assert again.stats.get("xhs/comments/notes", 0) == 0


@deferred_f_from_coro_f
async def test_a_re_run_after_new_comments_pays_only_for_the_first_page(
    comments_api: SandboxProcess, in_process_crawl: InProcessCrawl, tmp_path: Path,
) -> None:
    note_id = busy_note(comments_api)
    await in_process_crawl(NoteSpider, ids=note_id, comments="1000")
    paged = billed_by_endpoint(comments_api, "comments")
    assert paged >= 3
    added = comments_api.grow_comments(note_id, 3)
    # The note's detail, fetched again, shows its counter grown: its comments are due.
    refreshed = await in_process_crawl(NoteSpider, ids=note_id)
    assert refreshed.finish_reason == "finished"
    again = await in_process_crawl(CommentsSpider, stored="true", max_comments="1000",
                                   max_replies="0")
    assert again.finish_reason == "finished", again.log[-3000:]
    assert billed_by_endpoint(comments_api, "comments") == paged + 1
    assert [item["comment_id"] for item in again.items if item.get("level") == 1] == added
    assert again.stats["xhs/comments/stopped/comments/stored_comment"] == 1
    assert again.stats["xhs/comments/new"] == 3


@deferred_f_from_coro_f
async def test_the_budget_and_the_rate_cap_hold_for_comment_pages(
    comments_api: SandboxProcess, in_process_crawl: InProcessCrawl,
) -> None:
    note_id = busy_note(comments_api)
    output = await in_process_crawl(CommentsSpider, ids=note_id, max_comments="1000",
                                    max_replies="1000",
                                    settings={"JUSTONEAPI_MAX_BILLED_CALLS": "3"})
    assert output.finish_reason == "justoneapi_budget_exhausted", output.log[-3000:]
    assert sum(comments_api.stats()["billed_by_endpoint"].values()) <= 3
    comments_api.reset()
    comments_api.configure(rate_limit=10)
    capped = await in_process_crawl(CommentsSpider, settings={**NO_STORE, "JUSTONEAPI_MAX_RPS": "8"},
                                    ids=note_id, max_comments="1000", max_replies="1000")
    assert capped.finish_reason == "finished", capped.log[-3000:]
    assert capped.stats.get("justoneapi/rate_limited", 0) == 0
    assert capped.stats["justoneapi/requests/comments"] >= 3


@deferred_f_from_coro_f
async def test_feed_with_comments_stores_the_comments_of_the_notes_it_fetched(
    comments_api: SandboxProcess, in_process_crawl: InProcessCrawl, tmp_path: Path,
) -> None:
    output = await in_process_crawl(FeedSpider, oid="homefeed_recommend", pages="1", comments="5")
    assert output.finish_reason == "finished", output.log[-3000:]
    fetched = {note["note_id"] for note in output.notes}
    assert fetched
    taken = [item for item in output.items if "parent_id" in item]
    assert {item["note_id"] for item in taken} <= fetched
    for note_id in fetched:
        truth = comments_api.comments(note_id, "latest")
        top = [item["comment_id"] for item in taken
               if item["note_id"] == note_id and item["level"] == 1]
        assert top == [c["id"] for c in truth["comments"][:5]], note_id
    with open_store(store_of(tmp_path)) as store:
        assert store.count("comments") == len(taken) == len(set(comment_ids(output)))
