"""The report of every channel: a store the sandbox filled by crawling all 41
channels, 8 pages each, opens in headless Chromium under 1.5 MB, with its
summary and contents first, each channel's section collapsed, and no two
series of a chart in the same colour."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections import defaultdict

import pytest

from tests.conftest import ROOT, requires_installed
from tests.test_commands_report import ARTIFACTS, CHROMIUM, RUNS_SQL, report
from xhs_spider.api.channels import CHANNELS

pytestmark = pytest.mark.integration

#: The size the report must stay under (issue 21: it was 4.3 MB).
MAX_BYTES = 1_500_000
#: The sandbox's live channel lists live rooms only: crawled, but no note.
NO_NOTES = {"homefeed_live"}


def series_colours(chart: dict) -> dict[str, set[str]]:
    """Each series of a chart (a line; the bars of one series) and the colours
    Chromium paints it with."""
    colours: dict[str, set[str]] = defaultdict(set)
    for line in chart["lines"]:
        colours[line["id"]].add(line["colour"])
    for bar in chart["bars"]:  # <chart>-bar-<series>-<n>
        colours[bar["id"].rsplit("-", 1)[0]].add(bar["colour"])
    return colours


def test_the_report_of_41_channels_8_pages_is_light_summarised_and_colours_each_channel(crawl, tmp_path):
    requires_installed(None if CHROMIUM.exists() and shutil.which("chromium") else
                       "no /usr/bin/chromium here: .ci/run installs Debian's chromium")
    # Crawled through the sandbox over HTTP (about 40 s), then each channel's
    # first page again, refreshed: its notes get a second snapshot.
    for args in (("pages=8",), ("pages=1", "refresh=true")):
        run = crawl("feed", "oid=all", *args, settings={"LOG_LEVEL": "INFO"})
        assert run.returncode == 0 and run.finish_reason == "finished", run.stdout[-2000:]
    store = tmp_path / "xhs.sqlite3"
    with sqlite3.connect(store) as database:
        listing = {channel for (channel,) in database.execute("SELECT DISTINCT channel FROM feed_appearances")}
        runs = database.execute(RUNS_SQL, ("2000-01-01",)).fetchall()
        notes = database.execute("SELECT COUNT(DISTINCT note_id) FROM feed_appearances").fetchone()[0]
    assert listing == set(CHANNELS) - NO_NOTES and len(runs) == 2

    path = tmp_path / "report.html"
    report(store, path)
    size = path.stat().st_size
    print(f"the report of 41 channels x 8 pages: {size:,} bytes")
    assert size < MAX_BYTES, size

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report-41-channels.png"
    done = subprocess.run([sys.executable, "-m", "tests.report_browser", str(path), str(screenshot)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["errors"] == [] and [m for m in seen["console"] if m.startswith("error")] == []
    assert seen["requests"] == [path.resolve().as_uri()]

    # As it opens: the summary, the contents, every section collapsed.
    opened = seen["opened"]
    summary = dict(row.split("\t", 1) for row in opened["summary"])
    assert summary["Channels"] == "41 crawled, 40 with notes listed", summary
    assert summary["Notes"] == f"{notes:,} listed by the sources", summary
    billed = sum(run[2] for run in runs)
    assert summary["Billed calls"] == f"{billed:,} in 2 runs", summary
    last_run, reason = runs[-1][0], runs[-1][1]
    assert summary["Last run"].startswith(last_run + " (feed), ") and f": {reason}, good" in summary["Last run"]
    links = {link["href"]: link for link in opened["contents"]}
    assert all(link["found"] for link in opened["contents"]), opened["contents"]
    assert {f"#channel-{channel}" for channel in listing} | {"#summary", "#appearances", "#comments", "#runs"} \
        == set(links)
    assert opened["details"] > len(listing) and opened["open"] == 0

    # Opened: a chart per channel and the others, no two series of one in a colour.
    charts = {chart["id"]: chart for chart in seen["charts"]}
    assert {f"chart-likes-{channel}" for channel in listing} <= set(charts) and len(charts) == len(listing) + 3
    for chart_id, chart in charts.items():
        assert chart["width"] > 100 and chart["height"] > 50, chart_id
        colours = series_colours(chart)
        assert all(len(painted) == 1 for painted in colours.values()), (chart_id, colours)
        painted = [colour for (colour,) in colours.values()]
        assert len(painted) == len(set(painted)), (chart_id, sorted(painted))
    per_channel = series_colours(charts["chart-recommendations"])
    assert len(per_channel) == len(listing) == 40  # a bar series per channel, 40 colours
