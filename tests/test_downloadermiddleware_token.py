import logging

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import JsonResponse
from scrapy.utils.test import get_crawler
from twisted.internet.error import TimeoutError as DownloadTimeoutError

from xhs_spider.api.client import JustOneApi
from xhs_spider.middlewares.token import TokenMiddleware

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
