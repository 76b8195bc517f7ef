"""ProgressLog: the periodic progress line in place of LogStats."""

from __future__ import annotations

import logging

from scrapy import Spider
from scrapy.utils.test import get_crawler

from tests.conftest import ADDON
from xhs_spider.extensions.progress import ProgressLog


def test_progress_line_reports_rate_billing_and_backoff(caplog):
    crawler = get_crawler(Spider, {**ADDON, "XHS_PROGRESS_INTERVAL": "30"})
    progress = ProgressLog.from_crawler(crawler)
    crawler.stats.set_value("xhs/items/NoteItem", 40)
    crawler.stats.set_value("justoneapi/billed", 55)
    crawler.stats.set_value("justoneapi/rate_limit/rate", 12.5)
    with caplog.at_level(logging.INFO):
        progress.log_progress()
    assert "Progress: 40 notes (80/min)" in caplog.text
    assert "55 billed calls" in caplog.text and "paced at 12.5/s" in caplog.text
    assert "waiting" not in caplog.text  # nothing held the crawl back


def progress_lines(caplog, crawler, *changes: dict) -> list[str]:
    """The progress lines after each set of stats *changes*."""
    progress = ProgressLog.from_crawler(crawler)
    lines = []
    for change in changes:
        for key, count in change.items():
            crawler.stats.inc_value(key, count)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="xhs_spider.extensions.progress"):
            progress.log_progress()
        lines.append(caplog.records[-1].getMessage())
    return lines


def test_progress_line_says_the_crawl_waits_on_the_rate_limit(caplog):
    crawler = get_crawler(Spider, {**ADDON, "XHS_PROGRESS_INTERVAL": "60"})
    limited = {"justoneapi/rate_limited": 12, "justoneapi/rate_limit/waited_ms": 52_428,
               "justoneapi/retry/count": 12, "justoneapi/retry/reason_count/rate_limited": 12}
    crawler.stats.set_value("justoneapi/rate_limit/rate", 0.30000000000000004)

    first, second, third = progress_lines(caplog, crawler, limited, {}, {"xhs/items/NoteItem": 3})

    assert first.startswith("Progress: 0 notes (0/min)")
    assert first.endswith("paced at 0.3/s; waiting on the API's rate limit "
                          "(12 calls answered 302, calls held 52.4 s for their turn)")
    assert "retries (" not in first  # a 302 retried is the rate limit, not a retry reason
    # Counted since the last line: nothing new, no reason given.
    assert "waiting" not in second and "waiting" not in third
    assert third.startswith("Progress: 3 notes (3/min)")


def test_progress_line_says_the_crawl_waits_on_retries(caplog):
    crawler = get_crawler(Spider, {**ADDON, "XHS_PROGRESS_INTERVAL": "60"})
    failing = {"justoneapi/retry/count": 7, "justoneapi/retry/reason_count/code_500": 5,
               "justoneapi/retry/reason_count/invalid_body": 2}

    (line,) = progress_lines(caplog, crawler, failing)

    assert line.endswith("paced at no limit; waiting on retries (code_500×5, invalid_body×2)")
