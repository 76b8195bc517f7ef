"""The run summary and crawl-summary say what comment paging cost and stored,
and what the search, user and topic spiders read."""

from __future__ import annotations

from typing import Any

from xhs_spider import stats as keys
from xhs_spider.outcome.crawl_summary import crawl_summary, format_crawl_summary
from xhs_spider.outcome.summary import format_summary, run_summary


def comment_run_stats() -> dict[str, Any]:
    return {
        keys.REQUESTS: 9, keys.BILLED: 8,
        keys.REQUESTS_TO.format(endpoint="comments"): 5, keys.BILLED_BY.format(endpoint="comments"): 4,
        keys.REQUESTS_TO.format(endpoint="sub_comments"): 3,
        keys.BILLED_BY.format(endpoint="sub_comments"): 3,
        keys.REQUESTS_TO.format(endpoint="detail"): 1, keys.BILLED_BY.format(endpoint="detail"): 1,
        keys.COMMENTS_NEW: 41, keys.COMMENTS_UPDATED: 7, keys.ITEMS.format(item_type="CommentItem"): 48,
        keys.COMMENTS_NOTES: 3, keys.COMMENTS_NOTES_FRESH: 2, keys.COMMENTS_CLAIMED_ELSEWHERE: 1,
    }


def test_the_run_summary_counts_comment_pages_and_comments_new_and_updated() -> None:
    summary = run_summary(comment_run_stats(), "finished", {"ids": "x"})

    assert summary["comments"] == {
        "pages": {"requests": 5, "billed": 4}, "reply_pages": {"requests": 3, "billed": 3},
        "new": 41, "updated": 7, "stored": 48,
        "notes": 3, "notes_skipped_fresh": 2, "notes_claimed_elsewhere": 1}
    text = format_summary("comments-1", summary)
    assert ("  comments       41 new, 7 updated; comment pages 5/4, reply pages 3/3 (sent/billed)"
            in text.splitlines())
    assert ("  comment notes  3 paged, 2 skipped as fresh (XHS_COMMENTS_TTL), 1 left to other crawls "
            "holding them") in text.splitlines()
    assert "comments 5/4" in text and "sub_comments 3/3" in text  # the by-endpoint line too


def test_a_run_without_comments_has_no_comments_line() -> None:
    summary = run_summary({keys.REQUESTS_TO.format(endpoint="detail"): 2}, "finished", {})
    assert summary["comments"]["new"] == 0 and summary["comments"]["pages"] == {"requests": 0, "billed": 0}
    assert "  comments " not in format_summary("feed-1", summary)


def test_a_discovery_run_says_what_its_sources_read_and_found() -> None:
    stats = {
        keys.DISCOVERY_READ.format(endpoint="search"): 3, keys.DISCOVERY_NOTES.format(kind="keyword"): 40,
        keys.DISCOVERY_STOPPED.format(reason="max_pages"): 2,
    }
    summary = run_summary(stats, "finished", {"keywords": "咖啡,茶"})

    assert summary["discovery"] == {
        "pages_read": {"search": 3}, "notes": {"keyword": 40}, "stopped": {"max_pages": 2}}
    assert ("  discovery      notes found by source kind: keyword×40; pages read: search×3; "
            "stopped: max_pages×2") in format_summary("search-1", summary).splitlines()
    assert "  discovery " not in format_summary("feed-1", run_summary({}, "finished", {}))


def test_crawl_summary_adds_up_the_workers_comment_figures() -> None:
    runs = []
    for number, stats in enumerate((comment_run_stats(), comment_run_stats(), {})):
        summary = run_summary(stats, "finished", {})
        runs.append({"run_id": "r%d" % number, "crawl_id": "c", "started_at": "2026-12-01T00:0%d" % number,
                     "finished_at": "2026-12-01T00:1%d" % number, "finish_reason": "finished",
                     "summary": summary})
    runs.append({"run_id": "old", "crawl_id": "c", "finish_reason": "finished",  # before comments
                 "summary": {"api": {"requests": 1, "by_endpoint": {"detail": {"requests": 1, "billed": 1}}}}})

    summary = crawl_summary("c", runs)

    assert summary["comments"] == {
        "new": 82, "updated": 14, "stored": 96,
        "notes": 6, "notes_skipped_fresh": 4, "notes_claimed_elsewhere": 2,
        "pages": {"requests": 10, "billed": 8}, "reply_pages": {"requests": 6, "billed": 6}}
    assert ("  comments       82 new, 14 updated; comment pages 10/8, reply pages 6/6 (sent/billed)"
            in format_crawl_summary(summary).splitlines())
    assert "  comments " not in format_crawl_summary(crawl_summary("c", runs[2:]))
