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
    assert "Progress: 40 notes (80.0/min)" in caplog.text
    assert "55 billed calls" in caplog.text and "paced at 12.5/s" in caplog.text
