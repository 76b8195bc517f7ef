"""Bad input to ``scrapy crawl``: one line on stderr, exit status 2, no paid call.

Each case runs the real command (only a subprocess shows its exit status and
what it prints); a refused crawl stops in the checks before the crawl, so
each takes about as long as Scrapy takes to start. Ids files that are read
are checked in-process.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import TOKEN, InProcessCrawl, feed_note_ids, run_scrapy
from xhs_spider.commands.preflight import mixed_csv_problem
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.spiders.note import NoteSpider

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

NOTE_ID = "64b95d01000000000102f5b4"
IDS_TEXT = f"# 要刷新的笔记\n{NOTE_ID}\nhttps://www.xiaohongshu.com/explore/{NOTE_ID}\n"


def refused(api: SandboxProcess, tmp_path: Path, *args: str, settings: dict[str, str] | None = None,
            token: str = TOKEN) -> str:
    """Runs ``scrapy crawl *args`` against the sandbox; asserts it was refused
    as bad input and returns its one line."""
    merged = {
        "JUSTONEAPI_BASE_URL": api.url,
        # Never the default data/ of the working tree, should a check open the store.
        "XHS_STORE_URI": f"sqlite:///{tmp_path / 'xhs.sqlite3'}",
        **(settings or {}),
    }
    command = ["crawl", *args]
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    done = run_scrapy(command, env={"JUSTONEAPI_TOKEN": token})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    assert api.stats()["calls"] == 0
    return lines[0]


# Ids files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (IDS_TEXT.encode("utf-16-le"), "looks like UTF-16 without a byte-order mark"),
        (IDS_TEXT.encode("utf-16-be"), "looks like UTF-16 without a byte-order mark"),
        (IDS_TEXT.encode("gbk"), "is not UTF-8: line 1"),
        (bytes(range(256)) * 4, "is not a text file"),
    ],
    ids=["utf-16-le", "utf-16-be", "gbk", "binary"],
)
def test_an_ids_file_not_in_utf8_is_refused_naming_utf8(api, tmp_path, content, expected):
    ids_file = tmp_path / "ids.txt"
    ids_file.write_bytes(content)

    line = refused(api, tmp_path, "note", "-a", f"ids_file={ids_file}")

    assert expected in line
    assert "Save it as UTF-8" in line


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"], ids=["utf-8-bom", "utf-16-bom"])
@deferred_f_from_coro_f
async def test_an_ids_file_with_a_byte_order_mark_is_read(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path: Path, encoding: str
) -> None:
    ids = feed_note_ids(api, "homefeed_food_v3", 1)[:2]
    ids_file = tmp_path / "ids.txt"
    # Notepad's "UTF-8 with BOM" and "Unicode" (UTF-16 LE with its mark), CRLF.
    text = f"# 笔记\r\n{ids[0]}\r\nhttps://www.xiaohongshu.com/explore/{ids[1]}?xsec_token=a\r\n"
    ids_file.write_bytes(text.encode(encoding))

    result = await in_process_crawl(NoteSpider, ids_file=str(ids_file))

    assert result.finish_reason == "finished"
    assert api.stats()["detail_billed_by_note"] == {note_id: 1 for note_id in ids}
    assert result.stats["xhs/ids_file/bad_lines"] == 0


def test_ids_without_any_id_are_refused(api, tmp_path):
    line = refused(api, tmp_path, "note", "-a", "ids=,")

    assert line == "Error: -a ids=',' holds no note id."


# The store -------------------------------------------------------------------


def test_a_store_uri_naming_a_file_that_is_not_sqlite_is_refused(api, tmp_path):
    not_sqlite = tmp_path / "notes.csv"
    not_sqlite.write_text("note_id,title\n", encoding="utf-8")

    line = refused(api, tmp_path, "feed", settings={"XHS_STORE_URI": f"sqlite:///{not_sqlite}"})

    assert f"{not_sqlite} is not an SQLite database" in line
    assert not_sqlite.read_text(encoding="utf-8") == "note_id,title\n"  # left as it was


def test_an_sqlite_file_with_a_corrupt_body_is_refused(api, tmp_path):
    corrupt = tmp_path / "xhs.sqlite3"
    with closing(sqlite3.connect(corrupt)) as connection, connection:
        connection.execute("CREATE TABLE t (x)")
        connection.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(2000)])
    data = bytearray(corrupt.read_bytes())
    data[100:1000] = b"\x07" * 900  # the header stays, the schema page is garbage
    corrupt.write_bytes(bytes(data))

    line = refused(api, tmp_path, "feed", settings={"XHS_STORE_URI": f"sqlite:///{corrupt}"})

    assert "malformed" in line and "XHS_STORE_URI" in line


def test_replay_spill_into_a_file_that_is_not_sqlite_is_one_line(tmp_path):
    not_sqlite = tmp_path / "notes.csv"
    not_sqlite.write_text("note_id,title\n", encoding="utf-8")
    spill_file = tmp_path / "spill-run1.jsonl"
    spill_file.write_text("", encoding="utf-8")

    done = run_scrapy(["replay-spill", str(spill_file), "-s", f"XHS_STORE_URI=sqlite:///{not_sqlite}"])

    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "is not an SQLite database" in line
    assert spill_file.exists()  # not marked replayed


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mongodb://crawler:s3cret@127.0.0.1:99999/xhs", "a port must be a whole number up to 65535"),
        ("mongodb://crawler:s3cret@127.0.0.1:abc/xhs", "a port must be a whole number up to 65535"),
        ("mongodb://crawler:s3c@ret@127.0.0.1:27017/xhs", "must be percent-escaped"),
        ("mongodb://crawler:s3c/ret@127.0.0.1:27017/xhs", "must be percent-escaped"),
        ("mongodb://crawler:s3cret@127.0.0.1:27017/my xhs", 'Bad database name "my xhs"'),
    ],
    ids=["port-out-of-range", "port-not-a-number", "unescaped-at", "unescaped-slash", "space-in-database"],
)
def test_a_malformed_mongodb_uri_is_refused_without_its_password(api, tmp_path, uri, expected):
    line = refused(api, tmp_path, "feed", settings={"XHS_STORE_URI": uri})

    assert line.startswith("Error: Setting XHS_STORE_URI: MongoDB URI mongodb://crawler:***@")
    assert expected in line
    assert "s3c" not in line and "ret@" not in line


# Settings --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://127.0.0.1:abc", "http://:8080"])
def test_a_base_url_with_a_bad_port_or_no_host_is_refused(api, tmp_path, url):
    line = refused(api, tmp_path, "feed", settings={"JUSTONEAPI_BASE_URL": url})

    assert line == (
        f"Error: Setting JUSTONEAPI_BASE_URL={url!r}: expected an http:// or https:// URL "
        "(its port, if any, from 1 to 65535)."
    )


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("   ", "JUSTONEAPI_TOKEN is blank (white space only)"),
        ("abc def", "JUSTONEAPI_TOKEN holds white space or control characters inside it"),
    ],
)
def test_a_token_of_blanks_is_refused_without_showing_it(api, tmp_path, token, expected):
    line = refused(api, tmp_path, "feed", token=token)

    assert expected in line
    assert "abc" not in line


def test_an_unwritable_stats_file_is_refused_before_the_crawl(api, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    stats_file = blocker / "stats.json"  # under a file: no directory can be made

    line = refused(api, tmp_path, "feed", settings={"XHS_STATS_FILE": str(stats_file)})

    assert line == (
        f"Error: Setting XHS_STATS_FILE={str(stats_file)!r}: cannot write there "
        f"({blocker} is not a directory); choose a writable path."
    )


def test_a_stats_file_that_is_a_directory_is_refused(api, tmp_path):
    line = refused(api, tmp_path, "feed", settings={"XHS_STATS_FILE": str(tmp_path)})

    assert line == (
        f"Error: Setting XHS_STATS_FILE={str(tmp_path)!r}: cannot write there "
        "(it is a directory); choose a writable path."
    )


def test_an_unwritable_spill_dir_is_refused_before_the_crawl(api, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")

    line = refused(api, tmp_path, "feed", settings={"XHS_SPILL_DIR": str(blocker / "spill")})

    assert line.startswith(f"Error: Setting XHS_SPILL_DIR={str(blocker / 'spill')!r}: cannot write there")


def test_a_missing_stats_and_spill_directory_is_created(tmp_path):
    from xhs_spider.config.paths import directory_problem, file_problem

    assert file_problem("XHS_STATS_FILE", tmp_path / "new" / "stats.json") is None
    assert directory_problem("XHS_SPILL_DIR", tmp_path / "spill" / "deep") is None
    assert (tmp_path / "new").is_dir() and (tmp_path / "spill" / "deep").is_dir()
    assert os.listdir(tmp_path / "new") == [] and os.listdir(tmp_path / "spill" / "deep") == []


# Feeds and spiders -------------------------------------------------------------


@pytest.mark.parametrize("option", ["-O", "-o"])
def test_a_csv_feed_to_stdout_from_the_feed_spider_is_refused_with_the_recipe(api, tmp_path, option):
    # A file becomes two (tests/test_feedexport_csv_pair.py); standard output cannot.
    line = refused(api, tmp_path, "feed", option, "-:csv")

    assert "The CSV feed 'stdout:' would mix notes and feed appearances" in line
    assert '"item_classes": ["xhs_spider.items.NoteItem"], "overwrite": true}' in line
    assert '"item_classes": ["xhs_spider.items.FeedAppearanceItem"], "overwrite": true}' in line


def test_csv_feeds_of_every_item_type_become_two_files_beside_each_other():
    from xhs_spider.feeds import appearances_uri, paired_feeds

    feeds = {"out/notes.csv": {"format": "csv", "overwrite": True}, "all.jsonl": {"format": "jsonlines"},
             "stdout:": {"format": "csv"}}
    notes, appearances = "xhs_spider.items.NoteItem", "xhs_spider.items.FeedAppearanceItem"
    assert paired_feeds(feeds) == {
        "out/notes.csv": {"format": "csv", "overwrite": True, "item_classes": [notes],
                          "item_export_kwargs": {"item_class": notes}},
        "out/notes.appearances.csv": {"format": "csv", "overwrite": True, "item_classes": [appearances],
                                      "item_export_kwargs": {"item_class": appearances}},
        "all.jsonl": {"format": "jsonlines"}, "stdout:": {"format": "csv"},
    }
    assert appearances_uri("s3://bucket/%(name)s-%(time)s.csv") == "s3://bucket/%(name)s-%(time)s.appearances.csv"
    assert appearances_uri("notes") == "notes.appearances"
    # The file beside it already a feed of its own: left as it is (and refused).
    taken = {"n.csv": {"format": "csv"}, "n.appearances.csv": {"format": "csv", "item_classes": ["x.Y"]}}
    assert paired_feeds(taken) == taken


def feeds(**feed: dict) -> Settings:
    return Settings({"FEEDS": feed})


def test_csv_feeds_that_hold_one_item_type_pass():
    one_type = {"format": "csv", "item_classes": ["xhs_spider.items.NoteItem"]}
    assert mixed_csv_problem(FeedSpider, {}, feeds(**{"notes.csv": one_type})) is None
    assert mixed_csv_problem(FeedSpider, {"details": "false"}, feeds(**{"a.csv": {"format": "csv"}})) is None
    assert mixed_csv_problem(NoteSpider, {"ids": NOTE_ID}, feeds(**{"n.csv": {"format": "csv"}})) is None
    assert mixed_csv_problem(FeedSpider, {}, feeds(**{"all.jsonl": {"format": "jsonlines"}})) is None
    assert mixed_csv_problem(FeedSpider, {}, feeds(**{"all.csv": {"format": "csv"}})) is not None


def test_an_unknown_spider_is_one_line_naming_the_spiders(api, tmp_path):
    line = refused(api, tmp_path, "feeds")

    assert line == "Error: Unknown spider 'feeds'. Did you mean 'feed'? The spiders are: comments, feed, note, search, topic, user."


@pytest.mark.parametrize(("spider", "typo", "meant"), [
    ("feed", "page=3", "pages"), ("feed", "oids=homefeed_food_v3", "oid"), ("note", "id=" + NOTE_ID, "ids"),
])
def test_a_mistyped_argument_gets_the_name_it_was_meant_for(api, tmp_path, spider, typo, meant):
    line = refused(api, tmp_path, spider, "-a", typo)

    name, value = typo.split("=")
    assert line.startswith(f"Error: Unknown argument -a {name}={value!r}. Did you mean {meant!r}? "
                           f"The {spider} spider takes ")


def test_an_argument_like_none_gets_no_guess(api, tmp_path):
    line = refused(api, tmp_path, "feed", "-a", "colour=red")

    assert line == ("Error: Unknown argument -a colour='red'. The feed spider takes oid, pages, "
                    "details, refresh, comments.")
