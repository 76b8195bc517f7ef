"""SpreadsheetCsvItemExporter on its own: columns from the schemas, flattening, encodings.

How its files look through FEEDS is tested in test_feedexport.py.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io

import pytest

from tests.items import TITLES, note
from xhs_spider.exporters import SpreadsheetCsvItemExporter, csv_columns
from xhs_spider.items import NoteItem
from xhs_spider.schemas import load_schema

BOM = codecs.BOM_UTF8


# Columns ---------------------------------------------------------------------


def test_note_columns_follow_the_schema():
    columns = csv_columns(load_schema("note"))
    assert columns[:6] == ["note_id", "url", "type", "title", "text", "hashtags"]
    assert columns[6:11] == ["images.file_id", "images.url", "images.original_url",
                             "images.width", "images.height"]
    expected = {"video.duration", "author.nickname", "counts.likes", "counts.follows"}
    assert expected <= set(columns)
    assert columns[-5:] == ["published_at", "updated_at", "crawled_at", "request_id", "endpoint"]


def test_feed_appearance_columns_follow_the_schema():
    columns = csv_columns(load_schema("feed_appearance"))
    assert columns[:5] == ["note_id", "channel", "page", "position", "crawled_at"]
    expected = {"author.nickname", "cover.url", "cover.file_id", "likes_text"}
    assert expected <= set(columns)
    assert columns[-1] == "published_at"


def test_columns_resolve_refs_and_survive_recursive_schemas():
    schema = {
        "definitions": {"comment": {"type": "object", "properties": {
            "text": {"type": "string"},
            "replies": {"type": "array", "items": {"$ref": "#/definitions/comment"}},
        }}},
        "properties": {
            "comments": {"type": "array", "items": {"$ref": "#/definitions/comment"}},
        },
    }
    assert csv_columns(schema) == ["comments.text", "comments.replies"]


# The exporter on its own -----------------------------------------------------


def test_items_without_schema_are_flattened_in_first_item_order():
    output = io.BytesIO()
    exporter = SpreadsheetCsvItemExporter(output, encoding="utf-8")
    exporter.start_exporting()
    exporter.export_item({"id": 1, "ok": True, "who": {"name": "小红"},
                          "tags": ["a", "b"], "pics": [{"u": "x"}, {"u": "y", "w": 2}]})
    exporter.export_item({"id": 2, "ok": False, "extra": "dropped"})
    exporter.finish_exporting()
    content = output.getvalue()
    assert content.count(BOM) == 1
    assert list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))) == [
        ["id", "ok", "who.name", "tags", "pics.u", "pics.w"],
        ["1", "true", "小红", "a | b", "x | y", " | 2"],
        ["2", "false", "", "", "", ""],
    ]


def test_unknown_encoding_names_the_setting():
    with pytest.raises(ValueError, match="FEED_EXPORT_ENCODING"):
        SpreadsheetCsvItemExporter(io.BytesIO(), encoding="no-such-codec")


def test_items_are_not_changed_by_exporting():
    item = NoteItem(note(9, TITLES[1]))
    before = copy.deepcopy(dict(item))
    exporter = SpreadsheetCsvItemExporter(io.BytesIO())
    exporter.export_item(item)
    assert dict(item) == before
