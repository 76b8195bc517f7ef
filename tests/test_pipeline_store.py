"""StorePipeline: whole crawls into a real store, incremental re-runs, both backends, spills.

Crawls run in-process; ``scrapy replay-spill`` and a crawl started from a
script (whose stderr is asserted on) run as subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import ROOT, TOKEN, InProcessCrawl, run_scrapy
from tests.mongo_server import MongoServer
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.store import open_store

TWO_CHANNELS = "homefeed_food_v3,homefeed_travel_v3"
VOLATILE = {"first_seen_at", "last_seen_at", "detail_fetched_at", "crawled_at", "request_id", "unavailable_at"}


@pytest.fixture(scope="module")
def mongo(tmp_path_factory):
    with MongoServer(tmp_path_factory.mktemp("mongo")) as server:
        yield server


def counts(uri):
    with open_store(uri) as store:
        return {name: store.count(name) for name in ("notes", "feed_appearances", "note_metrics", "runs")}


def stored_notes(uri):
    with open_store(uri) as store:
        return {note["note_id"]: note for note in store.iter_notes()}


@deferred_f_from_coro_f
async def test_second_run_pays_only_for_new_or_stale_notes(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    uri = f"sqlite:///{tmp_path / 'xhs.sqlite3'}"
    first = await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="3")
    assert first.finish_reason == "finished"
    distinct = {a["note_id"] for a in first.appearances}
    after_first = counts(uri)
    assert after_first["notes"] == len(distinct)
    assert after_first["feed_appearances"] == len(first.appearances)
    assert after_first["note_metrics"] == len(first.notes)
    assert after_first["runs"] == 1

    api.reset()
    second = await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="3")
    assert second.finish_reason == "finished"
    assert api.stats()["calls_by_endpoint"]["detail"] == 0
    assert second.stats["xhs/notes/skipped_fresh"] == len(distinct)
    after_second = counts(uri)
    assert after_second["notes"] == after_first["notes"]
    assert after_second["feed_appearances"] == 2 * after_first["feed_appearances"]
    assert after_second["note_metrics"] == after_first["note_metrics"]

    api.reset()
    third = await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="3", refresh="true")
    assert api.stats()["calls_by_endpoint"]["detail"] == len(distinct)
    after_third = counts(uri)
    assert after_third["notes"] == after_first["notes"]
    assert after_third["note_metrics"] == after_first["note_metrics"] + len(third.notes)
    assert after_third["runs"] == 3


@deferred_f_from_coro_f
async def test_stale_notes_are_fetched_again(in_process_crawl: InProcessCrawl, api: SandboxProcess) -> None:
    await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="1")
    api.reset()
    again = await in_process_crawl(
        FeedSpider, oid="homefeed_food_v3", pages="1", settings={"XHS_DETAIL_TTL": "0"}
    )
    assert api.stats()["calls_by_endpoint"]["detail"] == len({a["note_id"] for a in again.appearances})


@deferred_f_from_coro_f
async def test_sqlite_and_mongodb_hold_the_same_notes(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, mongo: MongoServer, tmp_path
) -> None:
    sqlite_uri = f"sqlite:///{tmp_path / 'same.sqlite3'}"
    mongo_uri = mongo.uri("same_notes")
    await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="2", settings={"XHS_STORE_URI": sqlite_uri})
    api.reset()  # the sandbox grows engagement on every repeated fetch
    await in_process_crawl(FeedSpider, oid=TWO_CHANNELS, pages="2", settings={"XHS_STORE_URI": mongo_uri})

    in_sqlite, in_mongo = stored_notes(sqlite_uri), stored_notes(mongo_uri)
    assert in_sqlite.keys() == in_mongo.keys()
    assert len(in_sqlite) > 20
    for note_id, note in in_sqlite.items():
        other = in_mongo[note_id]
        assert note.keys() == other.keys()
        assert {k: v for k, v in note.items() if k not in VOLATILE} == {
            k: v for k, v in other.items() if k not in VOLATILE
        }


@pytest.mark.integration
def test_store_unreachable_closes_a_crawl_started_from_a_script(api, tmp_path):
    # Outside `scrapy crawl` (a script, another runner) the pipeline refuses.
    # A subprocess: what a script's user sees on stderr is one ERROR line.
    stats_file = tmp_path / "stats.json"
    script = (
        "from scrapy.crawler import CrawlerProcess\n"
        "from scrapy.utils.project import get_project_settings\n"
        "settings = get_project_settings()\n"
        f"settings.set('JUSTONEAPI_BASE_URL', {api.url!r})\n"
        "settings.set('XHS_STORE_URI', 'mongodb://127.0.0.1:9/xhs')\n"
        f"settings.set('XHS_STATS_FILE', {str(stats_file)!r})\n"
        "process = CrawlerProcess(settings)\n"
        "process.crawl('feed', oid='homefeed_food_v3')\n"
        "process.start()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "JUSTONEAPI_TOKEN": TOKEN},
    )
    assert json.loads(stats_file.read_text())["finish_reason"] == "xhs_store_unreachable"
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "unreachable" in errors[0]
    assert api.stats()["calls"] == 0


@deferred_f_from_coro_f
async def test_mongodb_lost_mid_crawl_spills_and_replays_exactly_once(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, mongo: MongoServer, tmp_path
) -> None:
    uri = mongo.uri("spill_test")
    spill_dir = tmp_path / "spill"
    api.configure(latency=0.05)

    def stop_when_data_arrives():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if counts(uri)["note_metrics"] >= 5:
                    break
            except Exception:
                pass
            time.sleep(0.05)
        mongo.stop()

    stopper = threading.Thread(target=stop_when_data_arrives)
    stopper.start()
    result = await in_process_crawl(
        FeedSpider, oid="homefeed_food_v3,homefeed_travel_v3,homefeed_pets_v3", pages="3",
        settings={
            "XHS_STORE_URI": uri,
            "XHS_SPILL_DIR": str(spill_dir),
            "XHS_STORE_BATCH_SIZE": "5",
            "XHS_STORE_FLUSH_INTERVAL": "0.1",
            "XHS_STORE_RETRY_TIMES": "2",
            "XHS_STORE_RETRY_BACKOFF": "0.1",
            "CONCURRENT_REQUESTS": "2",
        },
    )
    stopper.join()
    assert result.finish_reason == "xhs_store_spilled"
    spills = list(spill_dir.glob("spill-*.jsonl"))
    assert len(spills) == 1

    # The replay is a command: its exit status and output need a subprocess.
    mongo.restart()
    replayed = run_scrapy(
        ["replay-spill", "-s", f"XHS_STORE_URI={uri}", "-s", f"XHS_SPILL_DIR={spill_dir}"],
        env={"JUSTONEAPI_TOKEN": TOKEN},
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "operations loaded" in replayed.stdout

    notes = stored_notes(uri)
    crawled_notes = {n["note_id"] for n in result.notes}
    assert crawled_notes <= notes.keys()
    assert counts(uri)["notes"] == len({a["note_id"] for a in result.appearances} | crawled_notes)
    assert counts(uri)["note_metrics"] == len(result.notes)
    assert counts(uri)["feed_appearances"] == len(result.appearances)

    # A second replay of the same file changes nothing.
    again = run_scrapy(
        ["replay-spill", str(spills[0]) + ".replayed", "-s", f"XHS_STORE_URI={uri}"],
        env={"JUSTONEAPI_TOKEN": TOKEN},
    )
    assert again.returncode == 0
    assert counts(uri)["note_metrics"] == len(result.notes)
    assert [p.name for p in spill_dir.iterdir()] == [spills[0].name + ".replayed"]
