"""TokenMiddleware: the token is in a request only while it is downloaded.

Unit tests build the middleware with get_crawler; whole crawls against the
sandbox (in-process) check that the token ends up in no log, output or file.
"""

import logging
from ipaddress import ip_address

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import JsonResponse, TextResponse
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler
from twisted.internet.error import TimeoutError as DownloadTimeoutError

from sandbox import SandboxProcess
from tests.conftest import TOKEN as CRAWL_TOKEN
from tests.conftest import InProcessCrawl
from xhs_spider.api.client import JustOneApi
from xhs_spider.middlewares.token import TokenMiddleware
from xhs_spider.spiders.feed import FeedSpider

TOKEN = "unit-token-AbCdEf0123456789"
BASE = "https://api.justoneapi.com"


def build(token=TOKEN, base=BASE):
    settings = {"ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0}, "JUSTONEAPI_BASE_URL": base}
    if token:
        settings["JUSTONEAPI_TOKEN"] = token
    crawler = get_crawler(Spider, settings)
    return crawler, TokenMiddleware.from_crawler(crawler), JustOneApi.from_crawler(crawler)


def test_token_is_in_the_url_only_while_downloading():
    _, mw, api = build()
    request = api.feed_request("homefeed_food_v3", 2)
    clean = request.url

    assert mw.process_request(request) is None
    assert request.url == clean + "&token=" + TOKEN
    assert mw.stats.get_value("justoneapi/requests/feed") == 1

    response = JsonResponse(request.url, body=b'{"code": 0, "data": []}', request=request)
    restored = mw.process_response(request, response)
    assert request.url == clean
    assert restored.url == clean
    assert TOKEN not in restored.url
    assert type(restored) is JsonResponse
    assert restored.json() == {"code": 0, "data": []}


def test_the_restored_response_is_the_answer_at_its_clean_url():
    # Everything but the URL is the downloaded answer's, its charset included;
    # none is declared on the JSON answer above, and guessing one would go
    # through w3lib's deprecated arguments (warnings are errors here).
    _, mw, api = build()
    request = api.detail_request("67f32a94000000001d02eb4a")
    clean = request.url
    mw.process_request(request)
    body = '{"code": 0, "data": {"title": "省钱秘籍"}}'.encode("gb18030")
    response = TextResponse(
        request.url, status=203, body=body, request=request, flags=["cached"],
        headers={"Content-Type": "application/json; charset=gb18030"},
        ip_address=ip_address("127.0.0.1"), protocol="HTTP/1.1",
    )

    restored = mw.process_response(request, response)

    assert (type(restored), restored.url) == (TextResponse, clean)
    assert (restored.status, restored.body, restored.flags) == (203, body, ["cached"])
    assert restored.request is request
    assert restored.headers == response.headers
    assert (restored.ip_address, restored.protocol) == (ip_address("127.0.0.1"), "HTTP/1.1")
    assert restored.encoding == "gb18030"
    assert "省钱秘籍" in restored.text


def test_download_errors_are_masked_and_the_url_restored():
    _, mw, api = build()
    request = api.detail_request("67f32a94000000001d02eb4a")
    mw.process_request(request)
    error = DownloadTimeoutError(f"Getting {request.url} took longer than 60.0 seconds.")

    assert mw.process_exception(request, error) is None
    assert TOKEN not in str(error)
    assert "token=***" in str(error)
    assert "token=" not in request.url


def test_requests_that_are_not_api_calls_are_untouched():
    _, mw, _ = build()
    request = Request("https://example.com/?a=1")
    mw.process_request(request)
    assert request.url == "https://example.com/?a=1"


def test_the_token_goes_to_the_configured_host_only():
    _, mw, api = build()
    request = api.feed_request("homefeed_food_v3", 1).replace(url="https://evil.example/x?page=1")
    with pytest.raises(IgnoreRequest):
        mw.process_request(request)
    assert TOKEN not in request.url


def test_plain_http_to_a_remote_host_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING):
        build(base="http://47.117.133.51:30015")
    assert "plain HTTP" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build(base="http://127.0.0.1:8000")
    assert "plain HTTP" not in caplog.text


def test_without_a_token_api_requests_are_refused():
    _, mw, api = build(token=None)
    with pytest.raises(IgnoreRequest, match="JUSTONEAPI_TOKEN"):
        mw.process_request(api.feed_request("homefeed_food_v3", 1))


def test_environment_variable_overrides_the_setting(monkeypatch):
    monkeypatch.setenv("JUSTONEAPI_TOKEN", "from-env-token")
    _, mw, _ = build(token="from-settings")
    assert mw.token == "from-env-token"


# Whole crawls, in-process: the token leaves no trace -------------------------


def all_files_text(directory):
    texts = []
    for path in directory.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


@deferred_f_from_coro_f
async def test_token_leaves_no_trace(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path, capfd: pytest.CaptureFixture[str]
) -> None:
    # Redirects would carry the token in Location; a connection dropped
    # mid-body makes Scrapy log the URL it was downloading.
    api.configure(
        faults={"500": 0.2, "400": 0.05, "302": 0.05}, malformed_rate=0.05,
        redirect_rate=0.1, dataloss_rate=0.1,
    )
    jobdir = tmp_path / "job"
    result = await in_process_crawl(
        FeedSpider, oid="homefeed_food_v3", pages="2",
        settings={"JOBDIR": str(jobdir), "LOG_LEVEL": "DEBUG"}, token=CRAWL_TOKEN,
    )

    assert result.finish_reason == "finished"
    assert result.notes
    # The 400 answers (details: their note's outcome, no give-up) log their request.
    assert "refused by the API (<GET " in result.log
    served = api.stats()["http_faults"]
    assert served["redirect"] > 0 and served["dataloss"] > 0
    assert "Redirecting" not in result.log
    output = capfd.readouterr()
    everything = "\n".join([result.log, output.out, output.err, all_files_text(tmp_path)])
    assert CRAWL_TOKEN not in everything
    assert "token=" + CRAWL_TOKEN[:6] not in everything


@deferred_f_from_coro_f
async def test_token_stays_out_of_a_paused_jobdir(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    # A crawl stopped by the quota leaves its pending requests in JOBDIR.
    api.configure(quota=5)
    jobdir = tmp_path / "paused-job"
    result = await in_process_crawl(
        FeedSpider, oid="homefeed_food_v3,homefeed_travel_v3", pages="3",
        settings={"JOBDIR": str(jobdir), "CONCURRENT_REQUESTS": "2"}, token=CRAWL_TOKEN,
    )

    assert result.finish_reason == "justoneapi_daily_quota_exceeded"
    queued = [p for p in (jobdir / "requests.queue").rglob("*") if p.is_file() and p.stat().st_size]
    assert queued, "expected pending requests persisted in JOBDIR"
    persisted = b"".join(p.read_bytes() for p in jobdir.rglob("*") if p.is_file())
    assert b"noteId=" in persisted or b"get-note-feed" in persisted
    assert CRAWL_TOKEN.encode() not in persisted
    assert b"token=" not in persisted


@deferred_f_from_coro_f
async def test_token_stays_out_of_download_errors(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, capfd: pytest.CaptureFixture[str]
) -> None:
    # Timeouts quote the URL they failed on; the token must be masked there too.
    api.configure(latency=2.0)
    result = await in_process_crawl(
        FeedSpider, oid="homefeed_food_v3", pages="1", details="false",
        settings={"DOWNLOAD_TIMEOUT": "0.5", "RETRY_TIMES": "1"}, token=CRAWL_TOKEN,
    )

    assert "took longer than" in result.log
    output = capfd.readouterr()
    assert CRAWL_TOKEN not in result.log + output.out + output.err
