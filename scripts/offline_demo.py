"""The offline quick start: the main job against the bundled sandbox.

Starts the sandbox of the Just One API on 127.0.0.1, runs the feed crawl of
one channel against it into the embedded store (``data/xhs.sqlite3``), and
writes ``data/notes.json`` and ``data/appearances.json`` (what this run
fetched). Then it exports the whole dataset the store holds,
``data/dataset-notes.csv`` (``scrapy export``), and the report
``data/report.html`` (``scrapy report``): a re-run within the TTL fetches
nothing new, but the dataset and the report still show everything. Extra
arguments go to ``scrapy crawl feed``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The sandbox is not installed with the crawler: it is imported from the checkout.
sys.path.insert(0, str(ROOT))

from sandbox.process import SandboxProcess  # noqa: E402

#: Where the demo writes; the tests point it elsewhere.
DATA = Path(os.environ.get("XHS_DEMO_DATA") or ROOT / "data")
SANDBOX_TOKEN = "sandbox-token"
STATS = DATA / "demo-stats.json"
FEEDS = {
    str(DATA / "notes.json"): {
        "format": "json",
        "item_classes": ["xhs_spider.items.NoteItem"],
        "overwrite": True,
    },
    str(DATA / "appearances.json"): {
        "format": "json",
        "item_classes": ["xhs_spider.items.FeedAppearanceItem"],
        "overwrite": True,
    },
}


def main(extra: list[str]) -> int:
    DATA.mkdir(exist_ok=True)
    with SandboxProcess(token=SANDBOX_TOKEN) as sandbox:
        command = [
            sys.executable, "-m", "scrapy", "crawl", "feed",
            "-a", "oid=homefeed_food_v3", "-a", "pages=3",
            "-s", f"JUSTONEAPI_BASE_URL={sandbox.url}",
            "-s", f"FEEDS={json.dumps(FEEDS)}",
            "-s", f"XHS_STATS_FILE={STATS}",
            "-s", f"XHS_STORE_URI=sqlite:///{DATA / 'xhs.sqlite3'}",
            "-s", "LOG_LEVEL=INFO",
            *extra,
        ]
        # The user's own token and store stay out of the demo: sandbox notes
        # must never land in a real database.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUSTONEAPI_", "XHS_"))}
        env["JUSTONEAPI_TOKEN"] = SANDBOX_TOKEN
        returncode = subprocess.call(command, cwd=ROOT, env=env)
    if returncode == 0:
        returncode = show_the_dataset(env)
    if returncode == 0:
        notes = json.loads((DATA / "notes.json").read_text("utf-8"))
        stats = json.loads(STATS.read_text("utf-8"))
        fresh = stats.get("xhs/notes/skipped_fresh", 0)
        print(f"\n{len(notes)} notes fetched by this run in {DATA / 'notes.json'}, "
              f"stored in {DATA / 'xhs.sqlite3'}")
        print(f"The whole dataset: {DATA / 'dataset-notes.csv'}; the report: {DATA / 'report.html'}")
        if fresh:
            print(
                f"{fresh} notes were skipped: the store fetched them within "
                "XHS_DETAIL_TTL. make demo ARGS='-a refresh=true' fetches them again."
            )
    return returncode


def show_the_dataset(env: dict[str, str]) -> int:
    """The store's whole dataset and its report, whatever this run fetched."""
    env = {**env, "XHS_STORE_URI": f"sqlite:///{DATA / 'xhs.sqlite3'}"}
    for command in (["export", "notes", "-o", str(DATA / "dataset-notes.csv")],
                    ["report", "-o", str(DATA / "report.html")]):
        returncode = subprocess.call([sys.executable, "-m", "scrapy", *command, "--nolog"],
                                     cwd=ROOT, env=env)
        if returncode:
            return returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
