"""A shared crawl as a hostile operator would try it (issue 17): nothing
executable crosses Redis, one crawl writes to one store, a finished crawl id
is not a silent success, a token on the command line is warned about.

Workers are ``scrapy crawl`` subprocesses against the sandbox and a real
redis-server on loopback (docs/distributed.md).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from sandbox import SandboxProcess
from tests.conftest import ROOT, TOKEN
from tests.redis_server import RedisServer
from tests.test_distributed import Workers, finish_all, redis_installed, refused  # noqa: F401
from xhs_spider import stats as keys
from xhs_spider.api.client import JustOneApi, origin
from xhs_spider.distributed import serializer
from xhs_spider.distributed.keys import CrawlKeys
from xhs_spider.distributed.scheduler import MAX_DROPPED_PER_CALL, SharedScheduler
from xhs_spider.distributed.setup import apply_distributed, redis_url_warning
from xhs_spider.distributed.worker import DONE, worker_of
from xhs_spider.run.identity import expand_crawl_id
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.spiders.note import NoteSpider
from xhs_spider.spiders.search import SearchSpider
from xhs_spider.spiders.topic import TopicSpider
from xhs_spider.spiders.user import UserSpider
from xhs_spider.store import open_store

FOOD = "homefeed_food_v3"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis-safety")) as server:
        yield server


class RunsACommand:
    """What a pickle payload would be: unpickling it runs ``touch MARKER``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def plant(redis_server: RedisServer, crawl_id: str, *entries: bytes) -> None:
    """``ZADD xhs:<id>:requests -1e9 <entry>``: taken before any real request."""
    client = redis_server.client()
    for entry in entries:
        client.zadd(CrawlKeys(crawl_id).requests, {entry: -1e9})
    client.close()


def sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path}"


# 1. Nothing executable crosses Redis ----------------------------------------------


def test_a_pickle_planted_in_the_queue_is_never_run(
    api: SandboxProcess, redis_server: RedisServer, tmp_path: Path,
) -> None:
    marker = tmp_path / "MARKER"
    payload = pickle.dumps(RunsACommand(marker), protocol=pickle.HIGHEST_PROTOCOL)
    old_payload = pickle.dumps(RunsACommand(marker), protocol=0)
    # Before the worker starts: the first thing it takes from the queue.
    plant(redis_server, "planted", payload, b"\x00garbage", b'{"v": 1, "url": 5}')
    # JSON of the schema that would steer a worker: a URL elsewhere (a flood
    # of them), a request of the API past its middlewares (no endpoint), a
    # spider method that is no callback.
    elsewhere = socket.create_server(("127.0.0.1", 0))
    elsewhere.setblocking(False)
    foreign = f"http://127.0.0.1:{elsewhere.getsockname()[1]}"
    plant(redis_server, "planted", *(entry(url=f"{foreign}/{n}", callback="parse_detail")
                                     for n in range(1000)))
    plant(redis_server, "planted", entry(url=f"{api.url}/x", meta={}),
          entry(url=f"{api.url}/x", callback="prepare"))
    api.configure(latency=0.2)
    store = tmp_path / "store.sqlite3"
    worker = Workers(api, redis_server.url, sqlite_uri(store), tmp_path).start(
        "planted", oid=FOOD, pages="2")
    deadline = time.monotonic() + 60
    while api.stats()["calls"] < 2:
        assert worker.process.poll() is None and time.monotonic() < deadline, worker.output()
        time.sleep(0.02)
    plant(redis_server, "planted", old_payload)  # while it runs, an older protocol
    finish_all([worker])

    assert not marker.exists()
    with pytest.raises(BlockingIOError):
        elsewhere.accept()  # no worker ever connected to the URL elsewhere
    elsewhere.close()
    stats = worker.stats
    assert stats["xhs/distributed/dropped_entries/pickle"] == 2
    assert stats["xhs/distributed/dropped_entries/not_json"] == 1
    assert stats["xhs/distributed/dropped_entries/bad_schema"] == 2
    assert stats["xhs/distributed/dropped_entries/foreign_url"] == 1000
    assert stats["xhs/distributed/dropped_entries/unknown_callback"] == 1
    assert stats["xhs/distributed/dropped_entries"] == 1006
    log = worker.log.read_text("utf-8")
    dropped = [line for line in log.splitlines() if "Dropped an entry of the shared queue" in line]
    assert len(dropped) == 5 and sum("a pickle payload" in line for line in dropped) == 1, dropped
    assert all(" WARNING: " in line for line in dropped)
    # The real work was done: every note the feed pages showed, paid once and stored.
    billed = api.stats()["detail_billed_by_note"]
    with open_store(sqlite_uri(store)) as opened:
        stored = {note["note_id"] for note in opened.iter_notes()}
    assert billed and stored == set(billed)
    client = redis_server.client()
    assert client.zcard(CrawlKeys("planted").requests) == 0
    client.close()


#: The crawl's JUSTONEAPI_BASE_URL in the unit tests of the schema.
API_URL = "https://api.test"
API_ORIGIN = origin(API_URL)


def feed_spider(**settings: str) -> FeedSpider:
    crawler = get_crawler(FeedSpider, {"ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0},
                                       "JUSTONEAPI_BASE_URL": API_URL, **settings})
    spider = FeedSpider.from_crawler(crawler, oid=FOOD)
    spider.api = JustOneApi.from_crawler(crawler)  # as start() does
    crawler.spider = spider
    return spider


def test_requests_go_through_the_queue_as_json_and_come_back_the_same() -> None:
    spider = feed_spider()
    detail = spider.detail_request("5f0000000000000000000001")
    detail.meta.update(retry_times=2, download_slot="api", download_latency=0.1)
    data = serializer.encode(detail, spider)
    entry = json.loads(data)
    assert entry["callback"] == "parse_detail" and entry["errback"] == "api_failed"
    assert "download_slot" not in entry["meta"] and "_class" not in entry
    back = serializer.decode(data, spider, API_ORIGIN)
    assert back.url == detail.url and back.priority == detail.priority and back.dont_filter
    assert back.callback == spider.parse_detail and back.errback == spider.api_failed
    assert back.cb_kwargs == {"note_id": "5f0000000000000000000001"}
    assert back.meta == {key: value for key, value in detail.meta.items()
                         if key not in ("download_slot", "download_latency")}
    feed = spider._feed_request(FOOD, 3)
    assert serializer.decode(serializer.encode(feed, spider), spider, API_ORIGIN).cb_kwargs == {
        "channel": FOOD, "page": 3}


def entry(**fields: Any) -> bytes:
    """A queue entry: a valid request's fields, with *fields* changed (``None``: left out)."""
    base = {"v": 1, "url": f"{API_URL}/x", "method": "GET", "priority": 0, "dont_filter": True,
            "meta": {"justoneapi_endpoint": "detail"}}
    merged = {name: value for name, value in {**base, **fields}.items() if value is not None}
    return json.dumps(merged).encode()


@pytest.mark.parametrize(("data", "kind"), [
    (pickle.dumps({"url": "https://x"}, protocol=2), serializer.PICKLE),
    (b"not json at all", serializer.NOT_JSON),
    (b"\xff\xfe", serializer.NOT_JSON),
    (b"[1, 2]", serializer.BAD_SCHEMA),
    (entry(dont_filter=None), serializer.BAD_SCHEMA),
    (entry(priority="0"), serializer.BAD_SCHEMA),
    (entry(v=2), serializer.BAD_SCHEMA),
    (entry(url="file:///etc/passwd"), serializer.BAD_SCHEMA),
    (entry(_class="os.system"), serializer.BAD_SCHEMA),
    (entry(meta={"proxy": "http://evil"}), serializer.BAD_SCHEMA),
    (entry(meta={"retry_times": True}), serializer.BAD_SCHEMA),
    (entry(cb_kwargs={"note_id": 1}), serializer.BAD_SCHEMA),
    (entry(headers={"Host": "evil"}), serializer.BAD_SCHEMA),
    (entry(callback="__init__"), serializer.BAD_SCHEMA),
    (entry(callback="close"), serializer.UNKNOWN_CALLBACK),
    (entry(errback="no_such_method"), serializer.UNKNOWN_CALLBACK),
    # Issue 17: a planted entry cannot steer a worker anywhere but the API…
    (entry(url="http://169.254.169.254/latest/meta-data/", callback="parse_detail"),
     serializer.FOREIGN_URL),
    (entry(url="https://api.test.evil.example/x"), serializer.FOREIGN_URL),
    (entry(url="http://api.test/x"), serializer.FOREIGN_URL),
    (entry(url="https://api.test:8443/x"), serializer.FOREIGN_URL),
    (entry(url="http://[::1/x"), serializer.BAD_SCHEMA),
    # …nor past the API's own middlewares (no endpoint: no token, no budget)…
    (entry(meta={}), serializer.BAD_SCHEMA),
    (entry(meta={"justoneapi_endpoint": "admin"}), serializer.BAD_SCHEMA),
    # …nor into a spider method that is no request's callback…
    (entry(callback="unfetched_requests"), serializer.UNKNOWN_CALLBACK),
    (entry(callback="prepare"), serializer.UNKNOWN_CALLBACK),
    (entry(callback="detail_request"), serializer.UNKNOWN_CALLBACK),
    (entry(errback="parse_arguments"), serializer.UNKNOWN_CALLBACK),
    # …nor call the API any other way than GET.
    (entry(method="DELETE"), serializer.BAD_SCHEMA),
    (entry(method="get"), serializer.BAD_SCHEMA),
])
def test_anything_but_a_request_of_the_schema_is_a_bad_entry(data: bytes, kind: str) -> None:
    with pytest.raises(serializer.BadEntry) as raised:
        serializer.decode(data, feed_spider(), API_ORIGIN)
    assert raised.value.kind == kind
    good = entry(callback="parse_detail", errback="api_failed")
    assert serializer.decode(good, feed_spider(), API_ORIGIN).url == f"{API_URL}/x"
    # The same origin as a browser sees it: the default port written out.
    at_443 = entry(url="https://API.test:443/x", callback="parse_feed")
    assert serializer.decode(at_443, feed_spider(), API_ORIGIN).callback is not None


def test_the_callbacks_a_queued_request_may_name_are_those_the_spiders_use() -> None:
    """``queued_callbacks`` says what the spiders' code does: no more, no less."""
    used = set()
    for path in (ROOT / "xhs_spider" / "spiders").glob("*.py"):
        used |= set(re.findall(r"(?:callback|errback)=self\.(\w+)", path.read_text("utf-8")))
    spiders = (FeedSpider, NoteSpider, SearchSpider, UserSpider, TopicSpider)
    assert used == set().union(*(spider.queued_callbacks for spider in spiders))
    comments = {"parse_comments", "parse_replies", "comments_failed"}
    assert FeedSpider.queued_callbacks == {"parse_feed", "parse_detail", "api_failed", *comments}
    assert NoteSpider.queued_callbacks == {"parse_detail", "api_failed", "parse_share", *comments}
    assert SearchSpider.queued_callbacks == TopicSpider.queued_callbacks == {
        "parse_page", "parse_detail", "api_failed", *comments}
    assert UserSpider.queued_callbacks == {
        "parse_page", "parse_detail", "api_failed", "parse_profile", "parse_share", *comments}
    note_spider = NoteSpider.from_crawler(get_crawler(NoteSpider), ids="5f0000000000000000000001")
    with pytest.raises(serializer.BadEntry) as raised:
        serializer.decode(entry(callback="parse_feed"), note_spider, API_ORIGIN)
    assert raised.value.kind == serializer.UNKNOWN_CALLBACK


def test_a_request_the_schema_cannot_carry_is_refused_when_queued() -> None:
    spider = feed_spider()
    request = spider.detail_request("5f0000000000000000000001")
    with pytest.raises(TypeError, match="cb_kwargs"):
        serializer.encode(request.replace(cb_kwargs={"note_id": "x", "extra": object()}), spider)
    with pytest.raises(TypeError, match="body"):
        serializer.encode(request.replace(body=b"a=1"), spider)


def shared_crawler(redis_server: RedisServer, crawl_id: str) -> Any:
    """A crawler of a shared crawl, its spider made and its extensions built (a worker's)."""
    spider = feed_spider(REDIS_URL=redis_server.url, XHS_CRAWL_ID=crawl_id)
    return spider.crawler


def test_a_flood_of_bad_entries_is_dropped_a_batch_at_a_time(redis_server: RedisServer) -> None:
    """Dropping is synchronous on the reactor thread: one call drops a bounded
    batch and gives the reactor back (heartbeats go on); the engine asks again."""
    crawler = shared_crawler(redis_server, "flood")
    scheduler = SharedScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    plant(redis_server, "flood", *(entry(url=f"http://169.254.169.254/{n}") for n in range(1000)))
    client = redis_server.client()
    assert scheduler.next_request() is None
    assert client.zcard(CrawlKeys("flood").requests) == 1000 - MAX_DROPPED_PER_CALL
    assert crawler.stats.get_value(keys.DISTRIBUTED_DROPPED) == MAX_DROPPED_PER_CALL
    while client.zcard(CrawlKeys("flood").requests):
        assert scheduler.next_request() is None
    assert crawler.stats.get_value("xhs/distributed/dropped_entries/foreign_url") == 1000
    assert client.hlen(worker_of(crawler).keys.in_hand(worker_of(crawler).worker_id)) == 0
    client.close()


@deferred_f_from_coro_f
async def test_only_a_worker_whose_run_finished_marks_the_crawl_finished(
    redis_server: RedisServer,
) -> None:
    """A crawl whose every call failed is closed by the engine as ``finished``
    and judged ``justoneapi_unreachable``: its id may be run again."""
    client = redis_server.client()
    for crawl_id, answered in (("all-failed", False), ("all-answered", True)):
        crawler = shared_crawler(redis_server, crawl_id)
        client.set(CrawlKeys(crawl_id).seeded, DONE)
        worker = worker_of(crawler)
        worker.quiet_since, worker.seeded_to_the_end = time.monotonic() - 60, True
        crawler.stats.set_value(keys.REQUESTS, 4)
        if answered:
            crawler.stats.set_value(keys.CODE.format(code=0), 4)
        await worker._closed("finished")  # what the spider_closed signal calls
        assert (client.get(CrawlKeys(crawl_id).finished) is not None) == answered, crawl_id
    client.close()


def test_the_queue_is_configured_with_the_json_serializer() -> None:
    settings = Settings({"REDIS_URL": "redis://127.0.0.1:1/0", "XHS_CRAWL_ID": "json"})
    apply_distributed(settings)
    assert settings["SCHEDULER_SERIALIZER"] == "xhs_spider.distributed.serializer"


@pytest.mark.parametrize(("url", "warned"), [
    ("redis://queue.example:6379/0", True),
    ("rediss://queue.example:6380/0", True),
    ("redis://:s3cret@queue.example:6379/0", False),
    ("rediss://user:s3cret@queue.example:6380/0", False),
    ("redis://queue.example/0?password=s3cret", False),
    ("redis://127.0.0.1:6379/0", False),
    ("redis://localhost/0", False),
    ("redis://[::1]:6379/0", False),
    ("unix:///run/redis.sock", False),
])
def test_a_redis_off_this_machine_without_a_password_is_warned_about(url: str, warned: bool) -> None:
    warning = redis_url_warning(Settings({"REDIS_URL": url}))
    assert (warning is not None) == warned
    if warning:
        assert "queue.example" in warning and "redis://:PASSWORD@" in warning and "rediss://" in warning


# 2. One crawl, one store -------------------------------------------------------------


def join(api: SandboxProcess, redis_url: str, crawl_id: str, *settings: str,
         cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    """A worker of *crawl_id* refused before any call (counted from 0): its one line."""
    api.reset()
    return refused(api, *settings, cwd=cwd,
                   env={"REDIS_URL": redis_url, "XHS_CRAWL_ID": crawl_id, **(env or {})})


def test_a_worker_with_another_store_is_refused(
    api: SandboxProcess, redis_server: RedisServer, tmp_path: Path,
) -> None:
    first_store, other_store = tmp_path / "first.sqlite3", tmp_path / "other.sqlite3"
    # The first worker stops on its budget: the crawl is under way, not finished.
    first = Workers(api, redis_server.url, sqlite_uri(first_store), tmp_path).start(
        "split", oid=FOOD, pages="1", JUSTONEAPI_MAX_BILLED_CALLS=2)
    assert first.wait() == 1 and first.stats["finish_reason"] == "justoneapi_budget_exhausted"
    line = join(api, redis_server.url, "split", f"XHS_STORE_URI={sqlite_uri(other_store)}")
    assert str(first_store) in line and str(other_store) in line, line
    # The default store, relative to the working directory, is resolved: a
    # Scrapyd job elsewhere names the file it would have written to.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    line = join(api, redis_server.url, "split", cwd=elsewhere,
                env={"SCRAPY_SETTINGS_MODULE": "xhs_spider.settings", "PYTHONPATH": str(ROOT)})
    assert str(elsewhere / "data" / "xhs.sqlite3") in line and str(first_store) in line, line
    client = redis_server.client()
    recorded = client.get(CrawlKeys("split").store)
    # Stopped on its budget with requests queued: not finished, so joined (and refused its store).
    assert client.get(CrawlKeys("split").finished) is None
    client.close()
    assert recorded is not None and str(first_store).encode() in recorded


def test_the_store_is_recorded_without_credentials(redis_server: RedisServer) -> None:
    from xhs_spider.distributed.preflight import distributed_problem

    uri = "mongodb://reader:pa55word@Db1.example:27017,db2.example:27018/xhs?authSource=admin"
    settings = Settings({"REDIS_URL": redis_server.url, "XHS_CRAWL_ID": "mongo-identity",
                         "XHS_STORE_URI": uri})
    assert distributed_problem(settings, "feed", {}) is None
    client = redis_server.client()
    recorded = client.get(CrawlKeys("mongo-identity").store)
    client.close()
    assert recorded == b"the MongoDB database xhs on db1.example:27017,db2.example:27018"
    # The same store written another way (host order, case, the default port, other credentials).
    settings["XHS_STORE_URI"] = "mongodb://writer:other@db2.example:27018,DB1.example/xhs"
    assert distributed_problem(settings, "feed", {}) is None
    settings["XHS_STORE_URI"] = "mongodb://db1.example/other"
    problem = distributed_problem(settings, "feed", {})
    assert problem is not None and "database xhs on" in problem and "database other on" in problem
    assert "pa55word" not in problem and "reader" not in problem


# 5. A finished crawl id is not a silent success ----------------------------------------


def test_a_finished_crawl_is_not_joined_again(
    api: SandboxProcess, redis_server: RedisServer, tmp_path: Path,
) -> None:
    store = sqlite_uri(tmp_path / "hourly.sqlite3")
    finish_all([Workers(api, redis_server.url, store, tmp_path).start("hourly", oid=FOOD, pages="1")])
    client = redis_server.client()
    finished_at = client.get(CrawlKeys("hourly").finished)
    client.close()
    assert isinstance(finished_at, bytes)
    line = join(api, redis_server.url, "hourly", f"XHS_STORE_URI={store}")
    assert line.startswith(f"Error: crawl hourly finished at {finished_at.decode()}; use a new "
                           "XHS_CRAWL_ID, or XHS_CRAWL_ID=hourly-{date} (a new crawl each UTC day"), line


def test_a_crawl_id_template_starts_a_crawl_each_hour(
    api: SandboxProcess, redis_server: RedisServer, tmp_path: Path,
) -> None:
    before = datetime.now(tz=timezone.utc).strftime("%Y-%m-%dT%H")
    worker = Workers(api, redis_server.url, sqlite_uri(tmp_path / "x.sqlite3"), tmp_path).start(
        "every-{hour}", oid=FOOD, pages="1")
    finish_all([worker])
    after = datetime.now(tz=timezone.utc).strftime("%Y-%m-%dT%H")
    assert worker.stats["xhs/distributed/crawl_id"] in (f"every-{before}", f"every-{after}")
    line = join(api, redis_server.url, "every-{hour}", f"XHS_STORE_URI={sqlite_uri(tmp_path / 'x.sqlite3')}")
    if before == after:
        assert line.startswith(f"Error: crawl every-{before} finished at "), line
        assert line.endswith("; use a new XHS_CRAWL_ID."), line


def test_crawl_id_templates_expand_in_utc() -> None:
    moment = datetime(2026, 12, 7, 5, 30, tzinfo=timezone.utc)
    assert expand_crawl_id("hourly-{hour}", moment) == "hourly-2026-12-07T05"
    assert expand_crawl_id("daily-{date}", moment) == "daily-2026-12-07"
    assert expand_crawl_id("plain", moment) == "plain"
    # One expansion per process: a crawl started at 10:59:59.9 keeps its id.
    assert expand_crawl_id("kept-{hour}") == expand_crawl_id("kept-{hour}")


# 6. The token on the command line -----------------------------------------------------------


def test_a_token_on_the_command_line_is_warned_about_once(crawl: Any) -> None:
    given = crawl("feed", f"oid={FOOD}", "pages=1", token=None, settings={"JUSTONEAPI_TOKEN": TOKEN})
    assert given.returncode == 0, given.stdout[-2000:]
    warnings = [line for line in given.log.splitlines() if "given on the command line" in line]
    assert len(warnings) == 1 and " WARNING: " in warnings[0], warnings
    assert "ps" in warnings[0] and "listjobs.json" in warnings[0]
    assert "export JUSTONEAPI_TOKEN" in warnings[0].lower() or "Export JUSTONEAPI_TOKEN" in warnings[0]
    assert TOKEN not in given.log and TOKEN not in given.stdout
    exported = crawl("feed", f"oid={FOOD}", "pages=1")
    assert exported.returncode == 0 and "given on the command line" not in exported.log


def test_a_shared_crawl_names_its_default_sqlite_file_resolved(
    api: SandboxProcess, redis_server: RedisServer, tmp_path: Path,
) -> None:
    """A worker started elsewhere (a Scrapyd job) says which file it writes to."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    worker = Workers(api, redis_server.url, None, tmp_path, cwd=elsewhere).start(
        "default-store", oid=FOOD, pages="1")
    finish_all([worker])
    stored = re.findall(r"Storing run \S+ \(crawl default-store\) in sqlite://(\S+)",
                        worker.log.read_text("utf-8"))
    assert len(stored) == 1 and Path(stored[0]).is_absolute(), stored
    assert stored[0] == str(elsewhere / "data" / "xhs.sqlite3") and Path(stored[0]).exists()


def test_the_default_sqlite_file_of_a_shared_crawl_is_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Named so in the crawl's first own line ("Storing run … in sqlite:///…")."""
    monkeypatch.delenv("XHS_STORE_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings({"REDIS_URL": "redis://127.0.0.1:1/0", "XHS_CRAWL_ID": "resolved"})
    apply_distributed(settings)
    assert settings["XHS_STORE_URI"] == f"sqlite://{tmp_path / 'data' / 'xhs.sqlite3'}"
    alone = Settings()
    apply_distributed(alone)  # one process: as before
    assert alone.get("XHS_STORE_URI") is None
