"""Feed exports as users get them: real ``scrapy runspider`` runs with FEEDS."""

from __future__ import annotations

import codecs
import copy
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from itemadapter import ItemAdapter

from xhs_spider.exporters import LIST_SEPARATOR, SpreadsheetCsvItemExporter, csv_columns
from xhs_spider.items import FeedAppearanceItem, NoteItem
from xhs_spider.api.normalize import card_fields, note_fields, note_url
from xhs_spider.schemas import load_schema

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
BOM = codecs.BOM_UTF8
CRAWLED_AT = "2025-04-08T00:00:00Z"

#: Titles that trip up CSV and Excel: CJK, emoji, quotes, commas, a newline.
TITLES = ["上海落户普通人指南", '引号"与,逗号\n换行 😀🌸', "成都!这棵樱花树开爆了!!!"]

SPIDER = """
import scrapy

from tests.test_exporters import export_items


class ExportSpider(scrapy.Spider):
    name = "export"
    variant = "plain"

    async def start(self):
        for item in export_items(self.variant):
            yield item
"""


# Items the spider yields -----------------------------------------------------


def example(name):
    return json.loads((DATA / name).read_text("utf-8"))["data"]


def note_id(number):
    return f"67f32a94000000001d02eb{number:02x}"


def note(number, title, **changes):
    detail = example("detail_example.json")
    fields = note_fields(detail, crawled_at=CRAWLED_AT, request_id="r1")
    fields.update(note_id=note_id(number), url=note_url(note_id(number)), title=title)
    fields.update(changes)
    return fields


def images(count):
    first = note(0, "")["images"][0]
    return [
        {**first, "file_id": f"file{n}", "width": None if n == 1 else 1080,
         "url": f"https://ci.example.com/{n}.jpg?w=1080"}
        for n in range(count)
    ]


def appearance(number, position, **changes):
    card = {**example("feed_example.json")[0], "id": note_id(number)}
    fields = card_fields(card, channel="homefeed_recommend", page=1, position=position,
                         crawled_at=CRAWLED_AT)
    fields.update(changes)
    return fields


def plain_items():
    """Image notes with every optional field present, video null."""
    return [
        NoteItem(note(1, TITLES[0])),
        NoteItem(note(2, TITLES[1], images=images(3), hashtags=["上海落户", "人才 引进"])),
        NoteItem(note(3, TITLES[2])),
        FeedAppearanceItem(appearance(1, 1)),
        FeedAppearanceItem(appearance(2, 2)),
    ]


def optional_items():
    """Other optional fields: a video, missing optional keys, no cover."""
    video = {"video_id": "v1", "url": "https://v.example.com/1.mp4", "duration": 12.5,
             "width": 720, "height": 1280, "cover_file_id": None}
    sparse = note(4, TITLES[0], type="video", video=video, images=[])
    for name in ("updated_at", "request_id"):
        del sparse[name]
    sparse["author"] = {"user_id": "u1", "nickname": "地道的豆汁"}
    sparse["counts"] = {"likes": 1, "collects": 2, "comments": 3, "shares": 4}
    return [
        NoteItem(sparse),
        FeedAppearanceItem(
            appearance(4, 1, cover=None, likes=12000, likes_text="1.2万")
        ),
    ]


def export_items(variant):
    return plain_items() if variant == "plain" else optional_items()


def notes_of(variant):
    return [ItemAdapter(item).asdict() for item in export_items(variant)
            if isinstance(item, NoteItem)]


# Runs ------------------------------------------------------------------------

EXPORTER = "xhs_spider.exporters.SpreadsheetCsvItemExporter"
NOTES = ["xhs_spider.items.NoteItem"]
APPEARANCES = ["xhs_spider.items.FeedAppearanceItem"]


def feeds(run_dir: Path, shared_dir: Path) -> dict:
    return {
        str(run_dir / "notes.csv"): {"format": "csv", "item_classes": NOTES},
        str(run_dir / "appearances.csv"): {
            "format": "csv", "item_classes": APPEARANCES,
        },
        str(run_dir / "notes.json"): {"format": "json", "item_classes": NOTES},
        str(run_dir / "notes.jsonl"): {"format": "jsonlines", "item_classes": NOTES},
        str(run_dir / "mixed.csv"): {"format": "csv"},
        str(run_dir / "picked.csv"): {
            "format": "csv", "item_classes": NOTES,
            "fields": ["note_id", "author.nickname", "images.url", "author"],
        },
        str(run_dir / "gb18030.csv"): {
            "format": "csv", "item_classes": NOTES, "encoding": "gb18030",
        },
        str(shared_dir / "appended.csv"): {
            "format": "csv", "item_classes": NOTES, "overwrite": False,
        },
    }


def run_export(tmp: Path, variant: str) -> Path:
    run_dir = tmp / variant
    run_dir.mkdir()
    spider = tmp / "export_spider.py"
    spider.write_text(SPIDER, "utf-8")
    settings = {
        "FEED_EXPORTERS": json.dumps({"csv": EXPORTER}),
        "FEEDS": json.dumps(feeds(run_dir, tmp)),
        "FEED_EXPORT_ENCODING": "utf-8",
        "LOG_FILE": str(run_dir / "crawl.log"),
    }
    args = [sys.executable, "-W", "error", "-m", "scrapy", "runspider", str(spider),
            "-a", f"variant={variant}"]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    # Away from scrapy.cfg: the feed machinery alone, no project pipelines.
    env = {k: v for k, v in os.environ.items()
           if k not in {"SCRAPY_SETTINGS_MODULE", "JUSTONEAPI_TOKEN"}}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    done = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exports")
    return {variant: run_export(tmp, variant) for variant in ("plain", "optional")}


def read_rows(path: Path, encoding="utf-8-sig") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as file:
        return list(csv.reader(file))


def read_records(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


# Columns ---------------------------------------------------------------------


def test_note_columns_follow_the_schema():
    columns = csv_columns(load_schema("note"))
    assert columns[:6] == ["note_id", "url", "type", "title", "text", "hashtags"]
    assert columns[6:11] == ["images.file_id", "images.url", "images.original_url",
                             "images.width", "images.height"]
    expected = {"video.duration", "author.nickname", "counts.likes", "counts.follows"}
    assert expected <= set(columns)
    assert columns[-4:] == ["published_at", "updated_at", "crawled_at", "request_id"]


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


# CSV files -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["notes.csv", "appearances.csv", "mixed.csv", "picked.csv"]
)
def test_csv_starts_with_exactly_one_bom(runs, name):
    content = (runs["plain"] / name).read_bytes()
    assert content.startswith(BOM)
    assert content.count(BOM) == 1


def test_appending_to_a_file_adds_no_second_bom_nor_header(runs):
    path = runs["plain"].parent / "appended.csv"
    content = path.read_bytes()
    assert content.startswith(BOM)
    assert content.count(BOM) == 1
    rows = read_rows(path)
    assert rows[0] == csv_columns(load_schema("note"))
    assert [row[0] for row in rows[1:]] == [note_id(n) for n in (1, 2, 3, 4)]


def test_headers_are_the_schema_columns_in_every_run(runs):
    for run_dir in runs.values():
        assert read_rows(run_dir / "notes.csv")[0] == csv_columns(load_schema("note"))
        assert read_rows(run_dir / "appearances.csv")[0] == csv_columns(
            load_schema("feed_appearance"))


def test_chinese_and_emoji_round_trip(runs):
    records = read_records(runs["plain"] / "notes.csv")
    assert [record["title"] for record in records] == TITLES
    assert records[0]["author.nickname"] == "地道的豆汁"
    assert records[0]["text"] == notes_of("plain")[0]["text"]
    assert read_records(runs["plain"] / "appearances.csv")[0]["title"] == (
        "成都!这棵樱花树开爆了!!!竟然没人拍!!!")


def test_lists_fit_in_one_cell_keeping_positions(runs):
    record = read_records(runs["plain"] / "notes.csv")[1]
    assert record["images.url"].split(LIST_SEPARATOR) == [
        f"https://ci.example.com/{n}.jpg?w=1080" for n in range(3)]
    assert record["images.file_id"] == "file0 | file1 | file2"
    assert record["images.width"] == "1080 |  | 1080"
    assert record["hashtags"] == "上海落户 | 人才 引进"


def test_null_and_missing_values_give_empty_cells(runs):
    plain = read_records(runs["plain"] / "notes.csv")[0]
    video = [column for column in plain if column.startswith("video.")]
    assert video and all(plain[column] == "" for column in video)
    assert plain["author.location"] == ""
    sparse = read_records(runs["optional"] / "notes.csv")[0]
    assert sparse["updated_at"] == sparse["request_id"] == sparse["author.avatar"] == ""
    assert sparse["counts.reads"] == sparse["images.url"] == ""
    uncovered = read_records(runs["optional"] / "appearances.csv")[0]
    cover = [column for column in uncovered if column.startswith("cover.")]
    assert cover and all(uncovered[column] == "" for column in cover)


def test_numbers_are_written_as_they_are(runs):
    sparse = read_records(runs["optional"] / "notes.csv")[0]
    assert (sparse["video.duration"], sparse["video.width"]) == ("12.5", "720")
    assert (sparse["counts.likes"], sparse["counts.shares"]) == ("1", "4")
    assert read_records(runs["optional"] / "appearances.csv")[0]["likes"] == "12000"


def test_feed_export_fields_pick_dotted_columns(runs):
    rows = read_rows(runs["plain"] / "picked.csv")
    assert rows[0] == ["note_id", "author.nickname", "images.url", "author"]
    first = notes_of("plain")[0]
    assert rows[1][:3] == [note_id(1), "地道的豆汁", first["images"][0]["url"]]
    assert json.loads(rows[1][3]) == first["author"]


def test_another_item_class_is_written_in_the_first_ones_columns(runs):
    records = read_records(runs["plain"] / "mixed.csv")
    assert list(records[0]) == csv_columns(load_schema("note"))
    expected = [note_id(n) for n in (1, 2, 3, 1, 2)]
    assert [record["note_id"] for record in records] == expected
    assert records[3]["author.nickname"] == "贪玩小晕吖"
    assert records[3]["counts.likes"] == ""
    log = (runs["plain"] / "crawl.log").read_text("utf-8")
    assert log.count("but also receives FeedAppearanceItem items") == 1


def test_other_encodings_are_respected_without_bom(runs):
    content = (runs["plain"] / "gb18030.csv").read_bytes()
    assert not content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(content.decode("gb18030"), newline="")))
    assert [row[3] for row in rows[1:]] == TITLES


# JSON files ------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["plain", "optional"])
def test_json_and_json_lines_are_readable_and_parse_back_equal(runs, variant):
    json_text = (runs[variant] / "notes.json").read_text("utf-8")
    lines_text = (runs[variant] / "notes.jsonl").read_text("utf-8")
    for text in (json_text, lines_text):
        assert "\\u" not in text
        assert not text.startswith("\ufeff")
    assert TITLES[0] in json_text
    assert json.loads(json_text) == notes_of(variant)
    assert [json.loads(line) for line in lines_text.splitlines()] == notes_of(variant)


def test_json_keeps_emoji_unescaped(runs):
    assert "😀🌸" in (runs["plain"] / "notes.jsonl").read_text("utf-8")


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
