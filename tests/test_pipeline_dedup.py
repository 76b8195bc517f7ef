"""DedupPipeline: what this run already has is dropped."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from tests.conftest import ADDON
from tests.items import example_appearance, example_note
from xhs_spider.pipelines.dedup import DedupPipeline


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
