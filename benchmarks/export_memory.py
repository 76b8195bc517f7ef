"""The export case: ``scrapy export`` of a large store stays small in memory.

A synthetic SQLite store of N notes (each with a Chinese title and text,
three images, one feed appearance and one metrics snapshot) is written once
through the store's own write path; then ``scrapy export notes`` runs to CSV,
JSON Lines and Parquet, each in a subprocess whose peak RSS is read from the
kernel (``wait4``'s ru_maxrss).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.runner import ROOT
from benchmarks.suite import CaseResult, Suite
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.sqlite import SqliteNoteStore

FORMATS = (".csv", ".jsonl", ".parquet")
LIMIT_MB = 250
BATCH = 2000
RUN_ID = "feed-20261101T000000Z-bench0"


def synthetic_note(number: int) -> dict:
    note_id = "%024x" % (0x690000000000000000000000 + number)
    at = "2026-11-%02dT%02d:%02d:%02d.000Z" % (1 + number % 28, number % 24, number % 60, number % 60)
    return {
        "note_id": note_id, "url": "https://www.xiaohongshu.com/explore/" + note_id,
        "type": "image", "title": "后悔没早点知道的减脂餐 %d" % number,
        "text": "关于减脂餐,说点大实话🍀 " * 12, "hashtags": ["美食", "减脂餐", "早餐"],
        "images": [{"file_id": "1040g%035d" % (number * 3 + i), "url": "http://ci.example/%d" % i,
                    "original_url": None, "width": 1080, "height": 1440} for i in range(3)],
        "video": None,
        "author": {"user_id": "%024x" % number, "nickname": "地道的兔兔", "avatar": None,
                   "fans": number, "gender": "女", "location": "浙江", "red_id": None},
        "counts": {"likes": number, "collects": 2, "comments": 3, "shares": 4, "reads": 5,
                   "impressions": 6, "follows": 7},
        "published_at": at, "updated_at": at, "crawled_at": at, "request_id": None,
        "endpoint": "/api/xiaohongshu/get-note-detail/v7",
    }


def synthetic_appearance(note: dict, number: int) -> dict:
    return {
        "note_id": note["note_id"], "channel": "homefeed_food_v3", "page": 1 + number // 20,
        "position": 1 + number % 20, "crawled_at": note["crawled_at"], "title": note["title"],
        "type": "image", "likes": number, "likes_text": None,
        "author": {"user_id": note["author"]["user_id"], "nickname": "地道的兔兔", "avatar": None},
        "cover": None, "category": "美食", "published_at": note["published_at"],
    }


def build_store(path: Path, notes: int) -> None:
    with SqliteNoteStore(path) as store:
        for start in range(0, notes, BATCH):
            batch = WriteBatch(run_id=RUN_ID)
            for number in range(start, min(start + BATCH, notes)):
                note = synthetic_note(number)
                batch.notes.append(note)
                batch.appearances.append(synthetic_appearance(note, number))
            store.write(batch)


def peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """(peak RSS in MB, exit status, seconds) of *command*."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    assert process.stderr is not None
    error = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        print(error.decode("utf-8", "replace")[-2000:], flush=True)
    return usage.ru_maxrss / 1024, process.returncode, time.monotonic() - started


def export_case(suite: Suite) -> CaseResult:
    notes = suite.plan.export_notes
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="xhs-bench-export-") as work:
        store = Path(work) / "xhs.sqlite3"
        started = time.monotonic()
        build_store(store, notes)
        print(f"    a store of {notes:,} notes in {time.monotonic() - started:.0f} s", flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUSTONEAPI_", "XHS_"))}
        env["XHS_STORE_URI"] = f"sqlite:///{store}"
        for suffix in FORMATS:
            output = Path(work) / f"notes{suffix}"
            command = [sys.executable, "-m", "scrapy", "export", "notes", "-o", str(output)]
            peak, code, seconds = peak_rss_mb(command, env)
            figures[suffix[1:]] = {"peak_rss_mb": round(peak, 1), "returncode": code,
                                   "seconds": round(seconds, 1),
                                   "file_mb": round(output.stat().st_size / 2**20, 1) if output.exists() else 0}
            print(f"    {suffix}: peak RSS {peak:.0f} MB in {seconds:.1f} s", flush=True)
    worst = max(figure["peak_rss_mb"] for figure in figures.values())
    return CaseResult(
        name="export", title=f"export: scrapy export notes of a {notes:,}-note SQLite store",
        measured=", ".join(f"{name} {figure['peak_rss_mb']:.0f} MB" for name, figure in figures.items()),
        baseline="-", target=f"peak RSS < {LIMIT_MB} MB for each format",
        met=worst < LIMIT_MB and all(figure["returncode"] == 0 for figure in figures.values()),
        figures={"notes": notes, "peak_rss_mb": worst, "formats": figures},
        runs=[{"label": name, "returncode": figure["returncode"]} for name, figure in figures.items()],
    )
