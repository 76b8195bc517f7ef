"""No failure reported as success: an API down, an endpoint retired, a cache
that would serve failures, most calls given up on, a short token echoed."""

from __future__ import annotations

import json
import logging
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import JsonResponse
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import Crawl, InProcessCrawl
from tests.test_downloadermiddleware_business_codes import build
from xhs_spider.api.client import origin
from xhs_spider.outcome.verdict import judged
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.store import open_store

V1 = "/api/xiaohongshu-pgy/get-note-detail/v1"
SUCCESSOR = "/api/xiaohongshu-pgy/api/solar/note/noteId/detail/v1"
CHANNEL = "homefeed_food_v3"
FAILURES = 10  # JUSTONEAPI_ENDPOINT_FAILURES' default
CONCURRENT_REQUESTS = 8
PAGES = 3
DEFAULT_API_RETRY_TIMES = 5  # JUSTONEAPI_RETRY_TIMES' default
FEED_RUN = ("feed", f"oid={CHANNEL}", f"pages={PAGES}")


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


def billed(calls: int, **more: int) -> dict[str, int]:
    """The stats of a run with *calls* billed answers (code 0), and *more*."""
    stats = {"justoneapi/requests": calls, "justoneapi/code/0": calls, "justoneapi/billed": calls}
    for name, value in more.items():
        key = f"justoneapi/{name.replace('__', '/')}"
        stats[key] = stats.get(key, 0) + value
    return stats


@pytest.fixture
def coded_api(api: SandboxProcess) -> Iterator[SandboxProcess]:
    """The sandbox, its ``note_codes`` taken off again after the test."""
    yield api
    api.configure(note_codes={})


def notes_answering(api: SandboxProcess, code: int, note_ids: set[str]) -> set[str]:
    """Those of *note_ids* whose every detail call the sandbox answers *code*."""
    coded: set[str] = set()
    for page in range(1, PAGES + 1):
        query = urllib.parse.urlencode({"oid": CHANNEL, "page": page})
        with urllib.request.urlopen(f"{api.url}/__sandbox__/notes?{query}", timeout=10) as answer:
            coded.update(json.load(answer)["note_ids_by_code"].get(str(code), []))
    return coded & note_ids


def test_notes_the_api_refuses_are_their_outcome_and_re_runs_finish(
    crawl, coded_api: SandboxProcess, tmp_path: Path,
) -> None:
    coded_api.configure(note_codes={"400": 0.1})
    first: Crawl = crawl(*FEED_RUN)
    assert (first.finish_reason, first.returncode) == ("finished", 0)
    distinct = {a["note_id"] for a in first.appearances}
    refused = notes_answering(coded_api, 400, distinct)
    assert refused and len(distinct) >= 20
    assert first.stats["justoneapi/notes/rejected"] == len(refused)
    assert first.stats["justoneapi/code/400"] == len(refused)
    assert "justoneapi/give_up" not in first.stats
    assert f"scrapy crawl note -a ids={sorted(refused)[0]}" in first.log
    assert f"refused notes  {len(refused)} answered code 400" in first.log
    notes = stored(tmp_path)
    assert {(notes[n]["status"], notes[n]["failed_reason"]) for n in refused} == {("failed", "code_400")}
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        (run,) = store.find_runs()
    assert run["summary"]["notes"]["rejected"] == len(refused)

    # Within XHS_DETAIL_TTL: the refused notes are fresh like the others, not asked again.
    second: Crawl = crawl(*FEED_RUN)
    assert (second.finish_reason, second.returncode) == ("finished", 0)
    assert second.stats["justoneapi/billed"] == second.stats["justoneapi/feed/pages"] > 0
    assert second.stats["xhs/notes/skipped_fresh"] == len(distinct)
    assert "xhs/notes/detail_requested" not in second.stats
    assert "justoneapi/give_up" not in second.stats and "justoneapi/notes/rejected" not in second.stats
    assert f"nothing new to fetch: {len(distinct)} notes fresh in the store" in second.log
    calls = coded_api.stats()["detail_calls_by_note"]
    assert {calls[n] for n in refused} == {1}

    # The note spider asks again for a note named by id, fresh or not.
    retry: Crawl = crawl("note", f"ids={sorted(refused)[0]}")
    assert (retry.finish_reason, retry.returncode) == ("finished", 0)
    assert retry.stats["justoneapi/notes/rejected"] == 1
    assert coded_api.stats()["detail_calls_by_note"][sorted(refused)[0]] == 2


def test_a_crawl_whose_details_fail_30_percent_after_retries_fails(
    crawl, coded_api: SandboxProcess, tmp_path: Path,
) -> None:
    coded_api.configure(note_codes={"503": 0.3})
    result: Crawl = crawl(*FEED_RUN)
    assert (result.finish_reason, result.returncode) == ("justoneapi_too_many_give_ups", 1)
    failing = notes_answering(coded_api, 503, {a["note_id"] for a in result.appearances})
    stats = result.stats
    assert failing and stats["justoneapi/give_up"] == stats["justoneapi/give_up/code_503"] == len(failing)
    assert stats["justoneapi/retry/reason_count/code_503"] == DEFAULT_API_RETRY_TIMES * len(failing)
    assert stats["justoneapi/give_up"] + stats["justoneapi/billed"] >= 20  # JUSTONEAPI_MIN_GIVE_UP_SAMPLE
    assert stats["justoneapi/give_up"] > 0.1 * (stats["justoneapi/give_up"] + stats["justoneapi/billed"])
    assert "justoneapi/notes/rejected" not in stats
    assert "JUSTONEAPI_MAX_GIVE_UP_SHARE" in result.log
    notes = stored(tmp_path)
    assert {notes[n]["status"] for n in failing} == {"seen"}  # asked again by the next run


@pytest.mark.parametrize(("stats", "min_sample", "expected"), [
    ({}, 1, "finished"),
    ({"justoneapi/requests_refused": 3}, 1, "justoneapi_requests_refused"),
    ({"justoneapi/requests": 4, "justoneapi/give_up": 4}, 1, "justoneapi_unreachable"),
    (billed(9, give_up=1), 1, "justoneapi_too_many_give_ups"),
    (billed(99, give_up=1), 1, "finished"),
    # The minimum sample: 1 give-up against 6 billed feed pages is not judged by its share...
    (billed(6, give_up=1, requests=1, code__503=1), 20, "finished"),
    # ... but nothing billed at all is still a failure, sample or not.
    ({"justoneapi/requests": 3, "justoneapi/code/503": 3, "justoneapi/give_up": 3}, 20,
     "justoneapi_too_many_give_ups"),
    (billed(20, give_up=3), 20, "justoneapi_too_many_give_ups"),
    # A note's own 400 is not a give-up ...
    (billed(26, billed__detail=20, notes__rejected=3, code__400=3, requests=3), 20, "finished"),
    ({"justoneapi/requests": 1, "justoneapi/code/400": 1, "justoneapi/notes/rejected": 1}, 20,
     "finished"),
    # ... unless at least the sample of them came and no detail succeeded.
    (billed(6, billed__feed=6, notes__rejected=25, code__400=25, requests=25), 20,
     "justoneapi_too_many_give_ups"),
])
def test_the_verdict_on_a_finished_run(stats: dict, min_sample: int, expected: str) -> None:
    assert judged("finished", stats, 0.05, min_sample) == expected
    assert judged("justoneapi_daily_quota_exceeded", stats, 0.05, min_sample) == (
        "justoneapi_daily_quota_exceeded")


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
