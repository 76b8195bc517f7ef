"""Two crawls at once into one store: each note is paid for and stored once."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import SandboxProcess
from tests.conftest import FAST_SETTINGS, ROOT, TOKEN, scrapy_command
from tests.mongo_server import MongoServer
from xhs_spider.store import open_store

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

#: Overlapping on purpose: both crawls find the food channel's notes.
FIRST = "homefeed_food_v3,homefeed_travel_v3"
SECOND = "homefeed_food_v3,homefeed_fashion_v3"


@pytest.fixture(scope="module")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    with MongoServer(tmp_path_factory.mktemp("concurrency-mongo")) as server:
        yield server


def start_crawl(api: SandboxProcess, oid: str, store_uri: str, log: Path) -> subprocess.Popen[str]:
    settings = {
        **FAST_SETTINGS, "LOG_LEVEL": "INFO", "JUSTONEAPI_BASE_URL": api.url,
        "XHS_STORE_URI": store_uri, "XHS_SPILL_DIR": str(log.parent), "LOG_FILE": str(log),
    }
    args = ["crawl", "feed", "-a", f"oid={oid}", "-a", "pages=3"]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("JUSTONEAPI_", "XHS_"))}
    environment.update(JUSTONEAPI_TOKEN=TOKEN, PYTHONWARNINGS="error::DeprecationWarning")
    return subprocess.Popen(
        scrapy_command(*args), cwd=ROOT, env=environment, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def crawl_both_at_once(api: SandboxProcess, store_uri: str, tmp_path: Path) -> None:
    api.configure(latency=0.1)
    crawls = [
        start_crawl(api, oid, store_uri, tmp_path / f"crawl{number}.log")
        for number, oid in enumerate((FIRST, SECOND))
    ]
    for number, crawl in enumerate(crawls):
        _, stderr = crawl.communicate(timeout=180)
        log = (tmp_path / f"crawl{number}.log").read_text("utf-8")
        assert crawl.returncode == 0, stderr[-2000:] + log[-3000:]


def assert_paid_once_stored_once(api: SandboxProcess, store_uri: str) -> None:
    billed = api.stats()["detail_billed_by_note"]
    assert billed, "no detail was fetched"
    assert {note_id: times for note_id, times in billed.items() if times > 1} == {}
    with open_store(store_uri) as store:
        notes = {note["note_id"]: note for note in store.iter_notes()}
        runs = store.find_runs()
    assert set(notes) == set(billed)
    assert {note["status"] for note in notes.values()} <= {"ok", "unavailable"}
    assert [run["finish_reason"] for run in runs] == ["finished", "finished"]
    food = {n for n, note in notes.items() if "homefeed_food_v3" in note["channels"]}
    assert food, "the two crawls did not overlap"


def test_two_crawls_into_one_sqlite_file(api: SandboxProcess, tmp_path: Path) -> None:
    store_uri = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    crawl_both_at_once(api, store_uri, tmp_path)
    assert_paid_once_stored_once(api, store_uri)


def test_two_crawls_into_one_mongodb_database(
    api: SandboxProcess, mongo: MongoServer, tmp_path: Path,
) -> None:
    store_uri = mongo.uri("concurrent")
    crawl_both_at_once(api, store_uri, tmp_path)
    assert_paid_once_stored_once(api, store_uri)
