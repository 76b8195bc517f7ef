"""The comments spider (and -a comments=N) end to end against the sandbox:
every comment and reply of a note once, caps exact, paging that stops,
re-runs that pay only for what is new, unreadable answers and bad input."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import CrawlOutput, InProcessCrawl, feed_note_ids
from xhs_spider.spiders.comments import CommentsSpider

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
