"""``scrapy report``: one self-contained HTML file whose numbers are the store's,
rendered by headless Chromium with every chart and no console error."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import ROOT, requires_installed, run_scrapy
from tests.mongo_server import MongoServer
from tests.test_commands_export import damaged_store, unreachable_mongodb_uri

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

FOOD, TRAVEL = "homefeed_food_v3", "homefeed_travel_v3"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"

TOP_SQL = """
WITH recommended AS (SELECT DISTINCT channel, note_id FROM feed_appearances WHERE crawled_at >= ?),
liked AS (
  SELECT channel, note_id, json_extract(notes.detail, '$.counts.likes') AS likes
  FROM recommended JOIN notes USING (note_id) WHERE likes IS NOT NULL
), ranked AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY channel ORDER BY likes DESC, note_id) AS rank FROM liked
)
SELECT channel, note_id, likes FROM ranked WHERE rank <= 5 ORDER BY channel, rank
"""
RISING_SQL = """
WITH recommended AS (SELECT DISTINCT channel, note_id FROM feed_appearances WHERE crawled_at >= :since),
window AS (SELECT * FROM note_metrics WHERE fetched_at >= :since AND likes IS NOT NULL),
span AS (
  SELECT note_id, MIN(fetched_at) AS first_at, MAX(fetched_at) AS last_at FROM window
  GROUP BY note_id HAVING COUNT(*) >= 2
), grown AS (
  SELECT recommended.channel, span.note_id, last.likes AS likes, last.likes - first.likes AS growth
  FROM span JOIN recommended USING (note_id)
  JOIN window AS first ON first.note_id = span.note_id AND first.fetched_at = span.first_at
  JOIN window AS last ON last.note_id = span.note_id AND last.fetched_at = span.last_at
  WHERE last.likes > first.likes
), ranked AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY channel ORDER BY growth DESC, note_id) AS rank FROM grown
)
SELECT channel, note_id, likes, growth FROM ranked WHERE rank <= 5 ORDER BY channel, rank
"""
PER_DAY_SQL = """
SELECT substr(crawled_at, 1, 10) AS day, channel, COUNT(*) FROM feed_appearances
WHERE crawled_at >= ? GROUP BY day, channel ORDER BY day, channel
"""
SNAPSHOTS_SQL = """
SELECT note_id, COUNT(*) FROM note_metrics WHERE fetched_at >= ? AND likes IS NOT NULL GROUP BY note_id
"""
RUNS_SQL = """
SELECT json_extract(record, '$.run_id'), json_extract(record, '$.finish_reason'),
       json_extract(record, '$.summary.api.billed'), json_extract(record, '$.summary.notes.stored'),
       json_extract(record, '$.summary.api.give_ups')
FROM runs WHERE json_extract(record, '$.started_at') >= ?
ORDER BY json_extract(record, '$.started_at'), run_id
"""


class Tables(HTMLParser):
    """Every ``<table id=…>`` of a page: its body rows as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs)["id"]
            self.tables[self._table or ""] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None and self._table:
            if self._row != ["none"]:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._row:
            self._row[-1] += data


def page_tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def number(text: str) -> int | float | None:
    text = text.replace(",", "")
    return None if not text else float(text) if "." in text else int(text)


@pytest.fixture
def three_runs(crawl, tmp_path) -> Path:
    """A store with three runs, notes refreshed between them (their likes grow)."""
    runs = [
        crawl("feed", f"oid={FOOD},{TRAVEL}", "pages=2"),
        crawl("feed", f"oid={FOOD},{TRAVEL}", "pages=1", "refresh=true"),
        crawl("feed", f"oid={FOOD}", "pages=1", "refresh=true"),
    ]
    for run in runs:
        assert run.returncode == 0 and run.finish_reason == "finished", run.stdout[-2000:]
    return tmp_path / "xhs.sqlite3"


def report(store: Path, path: Path, *args: str) -> subprocess.CompletedProcess:
    done = run_scrapy(["report", "-o", str(path), *args], env={"XHS_STORE_URI": f"sqlite:///{store}"})
    assert done.returncode == 0, done.stderr
    return done


def test_report_numbers_are_the_stores(three_runs, tmp_path):
    since = "2000-01-01T00:00:00.000Z"
    path = tmp_path / "report.html"
    report(three_runs, path, "--since", "2000-01-01")
    html = path.read_text("utf-8")
    tables = page_tables(html)
    with sqlite3.connect(three_runs) as database:
        top = database.execute(TOP_SQL, (since,)).fetchall()
        rising = database.execute(RISING_SQL, {"since": since}).fetchall()
        per_day = database.execute(PER_DAY_SQL, (since,)).fetchall()
        runs = database.execute(RUNS_SQL, (since,)).fetchall()

    for channel in (FOOD, TRAVEL):
        shown = [(row[0], number(row[2])) for row in tables[f"top-{channel}"]]
        assert shown == [(note_id, likes) for ch, note_id, likes in top if ch == channel]
        shown_rising = [(row[0], number(row[2]), number(row[3])) for row in tables[f"rising-{channel}"]]
        expected = [(note_id, likes, growth) for ch, note_id, likes, growth in rising if ch == channel]
        assert shown_rising == expected and expected and all(row[2] > 0 for row in expected)
    # A row per channel, a column per day, then the total.
    header_days = sorted({day for day, _, _ in per_day})
    rows = tables["recommendations-per-day"]
    assert [row[0] for row in rows] == sorted({channel for _, channel, _ in per_day})
    shown_days = {(day, row[0]): number(count) for row in rows
                  for day, count in zip(header_days, row[1:-1], strict=True)}
    assert {key: count for key, count in shown_days.items() if count} == {
        (day, channel): count for day, channel, count in per_day}
    assert all(number(row[-1]) == sum(map(number, row[1:-1])) for row in rows)
    assert len(runs) == 3
    assert [(row[0], row[2], number(row[3]), number(row[4]), number(row[6])) for row in tables["runs"]] == [
        (run_id, reason, billed, stored, give_ups) for run_id, reason, billed, stored, give_ups in runs]
    assert tables["finish-reasons"] == [["finished", "3"]]
    # Self-contained: no script, no stylesheet or image fetched from anywhere.
    assert "<script" not in html and "http-equiv" not in html and "<link" not in html
    assert "src=" not in html and "@import" not in html


def test_report_renders_in_headless_chromium(three_runs, tmp_path):
    requires_installed(None if CHROMIUM.exists() and shutil.which("chromium") else
                       "no /usr/bin/chromium here: .ci/run installs Debian's chromium")
    path = tmp_path / "report.html"
    report(three_runs, path)  # the default window: the last 30 days
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    done = subprocess.run(
        [sys.executable, "-m", "tests.report_browser", str(path), str(screenshot)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    print(f"screenshot of the report: {screenshot}")

    charts = {chart["id"]: chart for chart in seen["charts"]}
    assert set(charts) == {
        f"chart-likes-{FOOD}", f"chart-likes-{TRAVEL}", "chart-recommendations",
        "chart-billed-per-run", "chart-notes-per-call",
    }
    for chart in charts.values():
        assert chart["width"] > 100 and chart["height"] > 50, chart
    assert_charts_draw_the_store(charts, three_runs)
    assert seen["errors"] == [] and [m for m in seen["console"] if m.startswith("error")] == []
    assert seen["requests"] == [path.resolve().as_uri()]  # nothing but the file itself
    assert screenshot.stat().st_size > 10_000


def assert_charts_draw_the_store(charts: dict[str, dict], store: Path) -> None:
    """Each chart draws what the store holds: a line per top note with
    snapshots, a point per snapshot, its title as text (in the reader's fonts),
    a bar per day and channel, per run."""
    from xhs_spider.report.charts import legend_labels

    since = "2000-01-01T00:00:00.000Z"  # the store is younger than the report's 30 days
    with sqlite3.connect(store) as database:
        top = database.execute(TOP_SQL, (since,)).fetchall()
        titles = dict(database.execute("SELECT note_id, json_extract(detail, '$.title') FROM notes"))
        snapshots = dict(database.execute(SNAPSHOTS_SQL, (since,)).fetchall())
        per_day = database.execute(PER_DAY_SQL, (since,)).fetchall()
        runs = database.execute(RUNS_SQL, (since,)).fetchall()
    for channel in (FOOD, TRAVEL):
        expected = [snapshots[note_id] for ch, note_id, _ in top if ch == channel and note_id in snapshots]
        lines = charts[f"chart-likes-{channel}"]["lines"]
        assert [line["points"] for line in lines] == expected and len(expected) >= 2, lines
        drawn = [note_id for ch, note_id, _ in top if ch == channel and note_id in snapshots]
        legend = legend_labels(drawn, titles)
        texts = charts[f"chart-likes-{channel}"]["texts"]
        assert set(legend) <= set(texts) and re.search("[\u4e00-\u9fff]", "".join(legend)), texts
    days, channels = {day for day, _, _ in per_day}, {channel for _, channel, _ in per_day}
    bars = charts["chart-recommendations"]["bars"]
    assert len(bars) == len(days) * len(channels) and len(channels) == 2, bars
    assert sum(bar["height"] > 0 for bar in bars) == len(per_day)
    for chart_id, values in (("chart-billed-per-run", [run[2] for run in runs]),
                             ("chart-notes-per-call", [run[3] for run in runs])):
        heights = [bar["height"] for bar in charts[chart_id]["bars"]]
        assert len(heights) == len(runs) == 3, charts[chart_id]
        assert [height > 0 for height in heights] == [bool(value) for value in values], heights


def test_likes_over_one_second_get_clock_times_on_the_time_axis():
    from xhs_spider.report import charts

    points = [("2026-11-30T10:05:22.950Z", 10), ("2026-11-30T10:05:23.100Z", 12)]
    svg = charts.line_chart("likes", {"a": points, "b": [("2026-11-30T10:05:23.150Z", 5)]}, "likes")
    texts = re.findall(r"<text\b[^>]*>(.*?)</text>", svg)  # text stays text (svg.fonttype none)
    clock = [text for text in texts if re.fullmatch(r"\d\d:\d\d(:\d\d)?", text)]
    assert len(clock) >= 3 and {"10:05:15", "10:05:30"} <= set(clock), texts
    assert "2026-11-30" in texts  # the date, once, under the axis
    assert not [text for text in texts if re.fullmatch(r"\d\d\.\d+", text)], texts  # no "23.05" seconds


def test_report_reads_a_mongodb_store(crawl, tmp_path):
    with MongoServer(tmp_path / "mongo") as server:
        uri = server.uri("report")
        for args in (("pages=1",), ("pages=1", "refresh=true")):
            run = crawl("feed", f"oid={FOOD}", *args, settings={"XHS_STORE_URI": uri})
            assert run.returncode == 0 and run.finish_reason == "finished", run.stdout[-2000:]
        path = tmp_path / "report.html"
        done = run_scrapy(["report", "-o", str(path)], env={"XHS_STORE_URI": uri})
    assert done.returncode == 0, done.stderr
    tables = page_tables(path.read_text("utf-8"))
    assert len(tables[f"top-{FOOD}"]) == 5 and len(tables[f"rising-{FOOD}"]) == 5
    assert all(number(row[3]) > 0 for row in tables[f"rising-{FOOD}"])
    assert [row[2] for row in tables["runs"]] == ["finished", "finished"]


def test_report_refuses_bad_input_in_one_line(tmp_path):
    store = f"sqlite:///{tmp_path / 'absent.sqlite3'}"
    for args, message in (
        (["-o", str(tmp_path / "r.pdf")], "name the HTML file to write with -o FILE.html"),
        (["-o", str(tmp_path / "r.html"), "--since", "soon"], "--since 'soon'"),
        (["-o", str(tmp_path / "r.html")], "no store at"),
    ):
        done = run_scrapy(["report", *args], env={"XHS_STORE_URI": store})
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr


def test_without_the_optional_libraries_one_line_says_what_to_install(tmp_path):
    # A package that fails to import stands for one that is not installed.
    for name in ("matplotlib", "pyarrow"):
        (tmp_path / "shadow" / name).mkdir(parents=True)
        (tmp_path / "shadow" / name / "__init__.py").write_text("raise ImportError('absent')\n")
    env = {"PYTHONPATH": str(tmp_path / "shadow"), "XHS_STORE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    for args, extra in ((["report", "-o", str(tmp_path / "r.html")], "report"),
                        (["export", "notes", "-o", str(tmp_path / "n.parquet")], "parquet")):
        done = run_scrapy(args, env=env)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert f"pip install 'xhs-spider[{extra}]'" in lines[0]


def test_a_store_that_fails_while_read_gets_one_line_exit_1_and_no_file(tmp_path):
    damaged_store(tmp_path / "xhs.sqlite3")
    for uri, problem in ((f"sqlite:///{tmp_path / 'xhs.sqlite3'}", "malformed"),
                         (unreachable_mongodb_uri(), "127.0.0.1:")):
        done = run_scrapy(["report", "-o", str(tmp_path / "out" / "r.html")], env={"XHS_STORE_URI": uri})
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, done.stderr
        assert lines[0].startswith("Error: cannot read ") and problem in lines[0], lines
        assert "s3cret-pw" not in done.stdout + done.stderr
        assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
