"""SchemaValidationPipeline: invalid items are dropped, naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from tests.conftest import ADDON
from tests.items import example_appearance, example_note
from xhs_spider import schemas
from xhs_spider.items import FeedAppearanceItem, NoteItem
from xhs_spider.pipelines.validation import (
    _COMPILED,
    SchemaValidationPipeline,
    compiled_validator,
    schema_errors,
)


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


#: One change each to a valid note; the compiled check and jsonschema must agree.
NOTE_CHANGES: list[dict[str, Any]] = [
    {}, {"note_id": "ABC"}, {"note_id": 5}, {"type": "audio"}, {"type": True}, {"title": None},
    {"hashtags": ["a", "a"]}, {"hashtags": ["a", ""]}, {"hashtags": [1]}, {"images": [{"url": "u"}]},
    {"images": [{"file_id": None, "url": "u", "width": -1}]}, {"video": {"video_id": None}},
    {"video": {"video_id": None, "url": None, "duration": 1.5, "extra": 1}}, {"counts": None},
    {"published_at": "2025-04-07T01:29:60Z"}, {"published_at": "2025-02-31T01:29:56Z"},
    {"published_at": "2025-04-07T01:29:56+0000"}, {"published_at": None}, {"crawled_at": "2026-11-22"},
    {"counts": {"likes": True}}, {"counts": {"likes": 2.0}}, {"counts": {"likes": 10**30}},
]


@pytest.mark.parametrize("change", NOTE_CHANGES, ids=[",".join(change) or "valid" for change in NOTE_CHANGES])
def test_the_compiled_check_and_jsonschema_agree(change):
    item = example_note()
    for field, value in change.items():
        item[field] = {**item[field], **value} if field == "counts" and value else value
    assert bool(schema_errors(item)) == bool(list(NoteItem.validator.iter_errors(dict(item))))


def test_a_valid_item_is_not_handed_to_jsonschema(monkeypatch):
    compiled_validator(NoteItem), compiled_validator(FeedAppearanceItem)
    monkeypatch.setattr(NoteItem, "validator", None)
    monkeypatch.setattr(FeedAppearanceItem, "validator", None)
    assert schema_errors(example_note()) == []
    assert schema_errors(example_appearance()) == []


def test_jsonschema_has_the_last_word_on_what_the_compiled_check_rejects():
    item = example_note()
    # Python's $ matches before a final newline; fastjsonschema reads it as \Z.
    item["url"] += "\n"
    assert list(NoteItem.validator.iter_errors(dict(item))) == []
    crawler = get_crawler(Spider, ADDON)
    assert SchemaValidationPipeline.from_crawler(crawler).process_item(item) is item


def test_compiling_leaves_the_item_classes_schemas_alone():
    _COMPILED.pop(NoteItem, None)
    compiled_validator(NoteItem)
    on_disk = json.loads((Path(schemas.__file__).parent / "note.json").read_text("utf-8"))
    assert NoteItem.jsonschema == on_disk
