"""Benchmark: store throughput (both backends) and crawl throughput with/without storage.

    .venv/bin/python -m benchmarks.store_and_crawl [--notes 10000] [--pages 3] [--repeat 3]
        [--baseline GIT_REF]

Store throughput writes N synthetic notes (with one feed appearance each) in
batches of XHS_STORE_BATCH_SIZE, as the pipeline does, into a fresh SQLite file
and a fresh database on a local nx-27017 (MongoDB wire protocol) server.
Crawl throughput runs ``scrapy crawl feed -a oid=all`` against the sandbox,
once with the store pipeline and once without, and reports notes per second
from the crawl's own stats (elapsed_time_seconds), best of --repeat runs.
With ``--baseline GIT_REF`` the crawl with the store also runs from a
checkout of that commit (a temporary git worktree), in interleaved rounds,
so both figures come from one run on the same machine state.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox.process import SandboxProcess
from tests.mongo_server import MongoServer
from xhs_spider.config.declarations import STORE_BATCH_SIZE
from xhs_spider.store import WriteBatch, open_store

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchmark-token"
BATCH = STORE_BATCH_SIZE.default


def synthetic_note(index: int) -> dict:
    note_id = f"{index:024x}"
    return {
        "note_id": note_id,
        "url": f"https://www.xiaohongshu.com/explore/{note_id}",
        "type": "image",
        "title": f"上海落户普通人指南 {index} ✌️",
        "text": "✌️听说了吗?家人们!上海真的太给力啦!! #上海落户[话题]# #落户[话题]#",
        "hashtags": ["上海落户", "落户"],
        "images": [{"file_id": f"file{index}", "url": f"http://ci.xiaohongshu.com/file{index}", "original_url": None, "width": 1242, "height": 1656}],
        "video": None,
        "author": {"user_id": f"{index % 997:024x}", "nickname": "地道的豆汁", "avatar": None, "fans": 566, "gender": "女", "location": None, "red_id": None},
        "counts": {"likes": index, "collects": 2, "comments": 3, "shares": 4, "reads": 5, "impressions": 6, "follows": 0},
        "published_at": "2025-04-07T01:29:56Z",
        "updated_at": "2025-04-12T02:20:39Z",
        "crawled_at": "2026-11-22T00:00:00Z",
        "request_id": f"r{index}",
    }


def appearance(note: dict, index: int) -> dict:
    return {
        "note_id": note["note_id"], "channel": "homefeed_food_v3", "page": index // 10 + 1,
        "position": index % 10 + 1, "crawled_at": "2026-11-22T00:00:00Z", "title": note["title"],
        "type": "image", "likes": index, "likes_text": None,
        "author": {"user_id": note["author"]["user_id"], "nickname": "地道的豆汁", "avatar": None},
        "cover": None, "category": "美食", "published_at": "2025-04-07T01:29:56Z",
    }


def store_throughput(uri: str, notes: int) -> float:
    store = open_store(uri)
    store.open()
    try:
        started = time.perf_counter()
        for start in range(0, notes, BATCH):
            batch = WriteBatch(run_id="benchmark")
            for index in range(start, min(start + BATCH, notes)):
                note = synthetic_note(index)
                batch.appearances.append(appearance(note, index))
                batch.notes.append(note)
            store.write(batch)
        elapsed = time.perf_counter() - started
        assert store.count("notes") == notes
    finally:
        store.close()
    return notes / elapsed


@contextlib.contextmanager
def checkout(ref: str):
    """A detached worktree of *ref*: its code runs when a crawl starts there."""
    with tempfile.TemporaryDirectory() as parent:
        path = Path(parent) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(path), ref], cwd=ROOT, check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=True)


def crawl_throughput(
    sandbox_url: str, pages: int, store_uri: str | None, code: Path = ROOT, oid: str = "all",
) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as work:
        stats_path = Path(work) / "stats.json"
        settings = {
            "JUSTONEAPI_BASE_URL": sandbox_url,
            "XHS_STATS_FILE": str(stats_path),
            "LOG_LEVEL": "WARNING",
            "AUTOTHROTTLE_ENABLED": "false",
            "CONCURRENT_REQUESTS": "16",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
            "XHS_STORE_URI": store_uri or f"sqlite:///{Path(work) / 'unused.sqlite3'}",
        }
        if store_uri is None:
            settings["ITEM_PIPELINES"] = json.dumps({"xhs_spider.pipelines.store.StorePipeline": None})
        command = [sys.executable, "-m", "scrapy", "crawl", "feed", "-a", f"oid={oid}", "-a", f"pages={pages}"]
        for name, value in settings.items():
            command += ["-s", f"{name}={value}"]
        # ``python -m`` puts the working directory first on sys.path: the
        # crawl imports the xhs_spider of *code*.
        environment = {**os.environ, "JUSTONEAPI_TOKEN": TOKEN, "PYTHONPATH": str(code)}
        subprocess.run(command, cwd=code, env=environment, check=True)
        stats = json.loads(stats_path.read_text())
    notes = stats["justoneapi/billed/detail"] - stats.get("justoneapi/notes/unavailable", 0)
    return notes / stats["elapsed_time_seconds"], notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", metavar="GIT_REF", help="also crawl with this commit's code")
    args = parser.parse_args()
    if args.baseline:
        with checkout(args.baseline) as baseline:
            compare_with_baseline(args, baseline)
        return

    with tempfile.TemporaryDirectory() as work:
        sqlite = store_throughput(f"sqlite:///{Path(work) / 'bench.sqlite3'}", args.notes)
        print(f"store  sqlite   : {sqlite:8.0f} notes/s ({args.notes} notes, batches of {BATCH})")
        with MongoServer(Path(work) / "mongo") as mongo:
            mongodb = store_throughput(mongo.uri("bench"), args.notes)
        print(f"store  nx-27017 : {mongodb:8.0f} notes/s ({args.notes} notes, batches of {BATCH})")

    with SandboxProcess(token=TOKEN) as sandbox, tempfile.TemporaryDirectory() as work:
        without, with_store = [], []
        for run in range(args.repeat):
            without.append(crawl_throughput(sandbox.url, args.pages, None)[0])
            rate, notes = crawl_throughput(sandbox.url, args.pages, f"sqlite:///{Path(work) / f'crawl{run}.sqlite3'}")
            with_store.append(rate)
        best_without, best_with = max(without), max(with_store)
        print(f"crawl  no store : {best_without:8.1f} notes/s (best of {args.repeat}, {notes} notes, oid=all pages={args.pages})")
        print(f"crawl  sqlite   : {best_with:8.1f} notes/s")
        print(f"storage cost    : {100 * (1 - best_with / best_without):5.1f} % of crawl throughput")


def compare_with_baseline(args: argparse.Namespace, baseline: Path) -> None:
    with SandboxProcess(token=TOKEN) as sandbox, tempfile.TemporaryDirectory() as work:
        rates: dict[str, list[float]] = {"baseline": [], "this": []}
        for run in range(args.repeat):
            for name, code in (("baseline", baseline), ("this", ROOT)):
                uri = f"sqlite:///{Path(work) / f'{name}{run}.sqlite3'}"
                rate, notes = crawl_throughput(sandbox.url, args.pages, uri, code)
                rates[name].append(rate)
                print(f"round {run + 1} {name:8}: {rate:7.1f} notes/s ({notes} notes)", flush=True)
        best = {name: max(values) for name, values in rates.items()}
        print(f"crawl with the embedded store, best of {args.repeat}, oid=all pages={args.pages}:")
        print(f"  baseline {args.baseline}: {best['baseline']:8.1f} notes/s")
        print(f"  this code          : {best['this']:8.1f} notes/s")
        print(f"  ratio              : {best['this'] / best['baseline']:8.2f}")


if __name__ == "__main__":
    main()
