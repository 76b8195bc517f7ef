"""`make demo`, the README's offline main job: its script, run twice."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration


def run_demo(data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XHS_DEMO_DATA": str(data)}
    return subprocess.run([sys.executable, "scripts/offline_demo.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def dataset_rows(data: Path) -> list[dict[str, str]]:
    with open(data / "dataset-notes.csv", encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def test_the_demo_shows_the_whole_dataset_also_when_a_rerun_fetched_nothing(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    with sqlite3.connect(tmp_path / "xhs.sqlite3") as store:
        stored = {row[0] for row in store.execute("SELECT note_id FROM notes WHERE status = 'ok'")}
    assert stored
    assert {row["note_id"] for row in dataset_rows(tmp_path) if row["status"] == "ok"} == stored

    again = run_demo(tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 notes fetched by this run" in again.stdout  # within the TTL
    assert {row["note_id"] for row in dataset_rows(tmp_path) if row["status"] == "ok"} == stored
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert report.count("<svg") >= 3 and "homefeed_food_v3" in report
