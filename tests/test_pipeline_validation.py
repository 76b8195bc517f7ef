"""SchemaValidationPipeline: invalid items are dropped, naming the field."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from tests.conftest import ADDON
from tests.items import example_note
from xhs_spider.pipelines.validation import SchemaValidationPipeline


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
