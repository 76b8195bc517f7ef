"""No failure reported as success: an API down, an endpoint retired, a cache
that would serve failures, most calls given up on, a short token echoed."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import JsonResponse
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import Crawl, InProcessCrawl
from tests.test_downloadermiddleware_business_codes import build
from xhs_spider.api.client import origin
from xhs_spider.run.verdict import judged
from xhs_spider.sandbox import SandboxProcess
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.store import open_store

V1 = "/api/xiaohongshu-pgy/get-note-detail/v1"
SUCCESSOR = "/api/xiaohongshu-pgy/api/solar/note/noteId/detail/v1"
CHANNEL = "homefeed_food_v3"
FAILURES = 10  # JUSTONEAPI_ENDPOINT_FAILURES' default
CONCURRENT_REQUESTS = 8


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stored(tmp_path: Path) -> dict[str, dict]:
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        return {note["note_id"]: note for note in store.iter_notes()}


def test_an_unreachable_api_is_a_failure_not_a_finished_crawl(crawl, api: SandboxProcess) -> None:
    result: Crawl = crawl("feed", f"oid={CHANNEL}", "pages=2",
                          settings={"JUSTONEAPI_BASE_URL": f"http://127.0.0.1:{closed_port()}"})
    assert result.finish_reason == "justoneapi_unreachable"
    assert result.returncode == 1
    assert result.stats["justoneapi/give_up/network"] >= 1
    assert "what to check  no call got an answer" in result.log
    assert "Traceback" not in result.log
    assert api.stats()["calls"] == 0


@deferred_f_from_coro_f
async def test_a_base_url_with_capitals_and_a_default_port_reaches_the_api(
    in_process_crawl: InProcessCrawl, api: SandboxProcess,
) -> None:
    shouted = api.url.replace("127.0.0.1", "LocalHost").replace("http://", "HTTP://")
    result = await in_process_crawl(FeedSpider, oid=CHANNEL, pages="1",
                                    settings={"JUSTONEAPI_BASE_URL": shouted})
    assert result.finish_reason == "finished"
    assert result.notes
    assert origin("HTTPS://API.justoneapi.com:443/x") == origin("https://api.justoneapi.com/y")
    assert origin("http://a.example:8080") != origin("http://a.example")


@deferred_f_from_coro_f
async def test_the_http_cache_never_serves_a_failure_to_its_retry(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path: Path,
) -> None:
    clean = await in_process_crawl(FeedSpider, oid=CHANNEL, pages="2",
                                   settings={"XHS_STORE_URI": f"sqlite:///{tmp_path / 'clean.sqlite3'}"})
    api.reset()
    api.configure(faults={"301": 0.3, "500": 0.1})
    cached = await in_process_crawl(FeedSpider, oid=CHANNEL, pages="2", settings={
        "HTTPCACHE_ENABLED": True, "HTTPCACHE_DIR": str(tmp_path / "cache"),
    })
    assert cached.finish_reason == "finished"
    assert cached.stats.get("justoneapi/give_up", 0) == 0
    assert {n["note_id"] for n in cached.notes} == {n["note_id"] for n in clean.notes}


def test_a_retired_detail_endpoint_is_left_for_its_successor(
    crawl, api: SandboxProcess, tmp_path: Path,
) -> None:
    api.configure(retired_paths=[V1])
    result: Crawl = crawl("feed", f"oid={CHANNEL}", "pages=2")
    assert (result.finish_reason, result.returncode) == ("finished", 0)
    served = api.stats()
    distinct = {a["note_id"] for a in result.appearances}
    assert set(served["detail_billed_by_note"]) == distinct
    assert set(served["detail_billed_by_note"].values()) == {1}
    assert FAILURES <= served["calls_by_path"][V1] <= FAILURES + CONCURRENT_REQUESTS
    notes = stored(tmp_path)
    assert {notes[n]["status"] for n in distinct} <= {"ok", "unavailable"}
    assert {note["endpoint"] for note in notes.values() if note["status"] == "ok"} == {SUCCESSOR}
    assert result.stats["justoneapi/endpoint/in_use/detail"] == SUCCESSOR
    assert result.log.count(f"moving to {SUCCESSOR}") == 1
    assert f"detail moved to {SUCCESSOR}" in result.log


def test_every_detail_endpoint_failing_ends_the_crawl_after_bounded_calls(
    crawl, api: SandboxProcess,
) -> None:
    api.configure(retired_paths=[V1, SUCCESSOR])
    result: Crawl = crawl("feed", f"oid={CHANNEL}", "pages=3")
    assert result.finish_reason == "justoneapi_endpoint_failing"
    assert result.returncode == 1
    served = api.stats()
    # The bound: JUSTONEAPI_ENDPOINT_FAILURES per path, plus the calls in flight.
    assert served["calls_by_endpoint"]["detail"] <= 2 * (FAILURES + CONCURRENT_REQUESTS)
    assert served["detail_billed_by_note"] == {}
    assert "JUSTONEAPI_DETAIL_PATH" in result.log


def test_a_crawl_that_gave_up_on_most_calls_fails(crawl, api: SandboxProcess) -> None:
    api.configure(faults={"503": 0.9}, max_consecutive_faults=50)
    result: Crawl = crawl("feed", f"oid={CHANNEL}", "pages=2")
    assert result.finish_reason == "justoneapi_too_many_give_ups"
    assert result.returncode == 1
    assert "JUSTONEAPI_MAX_GIVE_UP_SHARE" in result.log


@pytest.mark.parametrize(("stats", "expected"), [
    ({}, "finished"),
    ({"justoneapi/requests_refused": 3}, "justoneapi_requests_refused"),
    ({"justoneapi/requests": 4, "justoneapi/give_up": 4}, "justoneapi_unreachable"),
    ({"justoneapi/requests": 9, "justoneapi/code/0": 9, "justoneapi/billed": 9,
      "justoneapi/give_up": 1}, "justoneapi_too_many_give_ups"),
    ({"justoneapi/requests": 99, "justoneapi/code/0": 99, "justoneapi/billed": 99,
      "justoneapi/give_up": 1}, "finished"),
])
def test_the_verdict_on_a_finished_run(stats: dict, expected: str) -> None:
    assert judged("finished", stats, 0.05) == expected
    assert judged("justoneapi_daily_quota_exceeded", stats, 0.05) == "justoneapi_daily_quota_exceeded"


@deferred_f_from_coro_f
async def test_a_short_token_echoed_by_the_api_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    crawler, mw, api = build(JUSTONEAPI_TOKEN="k3y")
    request = api.detail_request("67f32a94000000001d02eb4a")
    body = json.dumps({"code": 400, "data": None, "message": "bad token=k3y for k3y", "requestId": "r"})
    response = JsonResponse(request.url, status=200, body=body.encode(), request=request)
    with caplog.at_level(logging.DEBUG), pytest.raises(IgnoreRequest) as given_up:
        await mw.process_response(request, response)
    assert "k3y" not in caplog.text and "k3y" not in str(given_up.value)
    assert "bad token=*** for ***" in caplog.text
