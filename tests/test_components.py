"""Unit tests of the smaller components, built with get_crawler."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from xhs_spider.extensions.progress import ProgressLog
from xhs_spider.items import FeedAppearanceItem, NoteItem
from xhs_spider.api.normalize import card_fields, note_fields
from xhs_spider.pipelines.dedup import DedupPipeline
from xhs_spider.pipelines.validation import SchemaValidationPipeline
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.spiders.note import NoteSpider

DATA = Path(__file__).parent / "data"
ADDON = {"ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0}}


def example_note() -> NoteItem:
    data = json.loads((DATA / "detail_example.json").read_text("utf-8"))["data"]
    return NoteItem(note_fields(data, crawled_at="2026-11-22T00:00:00.000Z", request_id="r"))


def example_appearance(position=1) -> FeedAppearanceItem:
    card = json.loads((DATA / "feed_example.json").read_text("utf-8"))["data"][0]
    fields = card_fields(card, channel="homefeed_food_v3", page=1, position=position, crawled_at="2026-11-22T00:00:00.000Z")
    return FeedAppearanceItem(fields)


def test_validation_drops_an_invalid_item_naming_the_field():
    crawler = get_crawler(Spider, ADDON)
    pipeline = SchemaValidationPipeline.from_crawler(crawler)
    assert pipeline.process_item(example_note()) is not None

    broken = example_note()
    broken["counts"] = {**broken["counts"], "likes": -3}
    broken["images"] = [{"file_id": None, "url": ""}]
    with pytest.raises(DropItem, match="counts.likes"):
        pipeline.process_item(broken)
    stats = crawler.stats.get_stats()
    assert stats["xhs/validation/NoteItem/counts.likes"] == 1
    assert stats["xhs/validation/NoteItem/images[].url"] == 1
    assert stats["xhs/validation/NoteItem/dropped"] == 1


def test_dedup_drops_what_this_run_already_has():
    crawler = get_crawler(Spider, ADDON)
    pipeline = DedupPipeline.from_crawler(crawler)
    pipeline.process_item(example_note())
    pipeline.process_item(example_appearance(position=1))
    pipeline.process_item(example_appearance(position=2))  # another place: kept
    with pytest.raises(DropItem):
        pipeline.process_item(example_note())
    with pytest.raises(DropItem):
        pipeline.process_item(example_appearance(position=1))
    assert crawler.stats.get_value("xhs/dedup/dropped/NoteItem") == 1
    assert crawler.stats.get_value("xhs/dedup/dropped/FeedAppearanceItem") == 1


def test_progress_line_reports_rate_billing_and_backoff(caplog):
    crawler = get_crawler(Spider, {**ADDON, "XHS_PROGRESS_INTERVAL": "30"})
    progress = ProgressLog.from_crawler(crawler)
    crawler.stats.set_value("xhs/items/NoteItem", 40)
    crawler.stats.set_value("justoneapi/billed", 55)
    crawler.stats.set_value("justoneapi/rate_limit/delay", 2.0)
    with caplog.at_level(logging.INFO):
        progress.log_progress()
    assert "Progress: 40 notes (80.0/min)" in caplog.text
    assert "55 billed calls" in caplog.text and "rate-limit backoff 2.0 s" in caplog.text


def test_scrapyd_job_argument_passes_through():
    assert FeedSpider.check_arguments(oid="homefeed_food_v3", _job="6487ec7f") is None
    spider = FeedSpider(oid="homefeed_food_v3", _job="6487ec7f")
    assert spider._job == "6487ec7f"
    assert spider.run_arguments == {"oid": "homefeed_food_v3"}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "exactly one of"),
        ({"ids": "x", "stale": "true"}, "exactly one of"),
        ({"ids": "not-an-id"}, "holds no note id"),
        ({"ids_file": "/nonexistent/ids.txt"}, "no such file"),
        ({"ids": "67f32a94000000001d02eb4a", "limit": "5"}, "-a limit goes with -a stale=true"),
        ({"stale": "true", "limit": "0"}, "-a limit='0'"),
    ],
)
def test_note_spider_arguments_are_checked(arguments, expected):
    assert expected in NoteSpider.check_arguments(**arguments)


def test_note_spider_takes_ids_and_urls():
    spider = NoteSpider(ids="67f32a94000000001d02eb4a, https://www.xiaohongshu.com/explore/699fdc5c000000000e00f4cd?xsec_token=a")
    assert spider.argument_error is None
    assert spider.ids == ["67f32a94000000001d02eb4a", "699fdc5c000000000e00f4cd"]
