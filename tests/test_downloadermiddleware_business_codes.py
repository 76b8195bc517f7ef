"""BusinessCodeMiddleware: every business code of the API gets one action."""

import json

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, JsonResponse
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from xhs_spider.api.client import JustOneApi
from xhs_spider.middlewares.business_codes import BusinessCodeMiddleware


def build(**settings):
    crawler = get_crawler(
        Spider,
        {
            "ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0},
            "JUSTONEAPI_RETRY_BACKOFF_BASE": "0",
            "JUSTONEAPI_RETRY_TIMES": "2",
            **settings,
        },
    )
    crawler.spider = crawler._create_spider("unit")
    return crawler, BusinessCodeMiddleware.from_crawler(crawler), JustOneApi.from_crawler(crawler)


def answer(request, code, status=200, data=None):
    body = json.dumps({"code": code, "data": data, "message": None, "recordTime": None, "requestId": "r"})
    return JsonResponse(request.url, status=status, body=body.encode(), request=request)


@deferred_f_from_coro_f
async def test_success_passes_and_is_billed():
    crawler, mw, api = build()
    request = api.feed_request("homefeed_food_v3", 1)
    mw.process_request(request)
    response = answer(request, 0, data=[])

    assert await mw.process_response(request, response) is response
    stats = crawler.stats.get_stats()
    assert stats["justoneapi/billed"] == 1
    assert stats["justoneapi/billed/feed"] == 1
    assert stats["justoneapi/code/0"] == 1


@pytest.mark.parametrize(("code", "status"), [(301, 200), (500, 500), (503, 503), (999, 200)])
@deferred_f_from_coro_f
async def test_transient_codes_are_retried_whatever_the_http_status(code, status):
    crawler, mw, api = build()
    request = api.detail_request("67f32a94000000001d02eb4a")
    retry = await mw.process_response(request, answer(request, code, status))

    assert isinstance(retry, Request)
    assert retry.meta["retry_times"] == 1
    assert retry.dont_filter
    stats = crawler.stats.get_stats()
    assert stats[f"justoneapi/retry/reason_count/code_{code}"] == 1
    assert "justoneapi/billed" not in stats


@deferred_f_from_coro_f
async def test_retries_are_bounded_then_given_up():
    crawler, mw, api = build()
    request = api.detail_request("67f32a94000000001d02eb4a")
    for _ in range(2):
        request = await mw.process_response(request, answer(request, 301))
    with pytest.raises(IgnoreRequest):
        await mw.process_response(request, answer(request, 301))
    stats = crawler.stats.get_stats()
    assert stats["justoneapi/retry/count"] == 2
    assert stats["justoneapi/give_up/code_301"] == 1


@deferred_f_from_coro_f
async def test_bodies_that_are_not_json_are_retried():
    crawler, mw, api = build()
    request = api.feed_request("homefeed_food_v3", 1)
    html = HtmlResponse(request.url, status=502, body=b"<html>Bad Gateway</html>", request=request)
    cut = JsonResponse(request.url, body=b'{"code": 0, "data": [{"id"', request=request)

    assert isinstance(await mw.process_response(request, html), Request)
    assert isinstance(await mw.process_response(request, cut), Request)
    assert crawler.stats.get_value("justoneapi/invalid_body") == 2


@pytest.mark.parametrize(("endpoint", "code", "parameter"), [
    ("feed", 400, "oid=homefeed_food_v3"), ("feed", 404, "oid=homefeed_food_v3"),
    ("detail", 404, "noteId=67f32a94000000001d02eb4a"),
])
@deferred_f_from_coro_f
async def test_bad_requests_are_given_up_at_once(endpoint, code, parameter, caplog):
    crawler, mw, api = build()
    if endpoint == "feed":
        request = api.feed_request("homefeed_food_v3", 1)
    else:
        request = api.detail_request("67f32a94000000001d02eb4a")
    with pytest.raises(IgnoreRequest):
        await mw.process_response(request, answer(request, code))
    assert crawler.stats.get_value(f"justoneapi/give_up/code_{code}") == 1
    assert parameter in caplog.text


@deferred_f_from_coro_f
async def test_a_detail_refused_for_its_note_id_is_the_note_s_outcome_not_a_give_up(caplog):
    crawler, mw, api = build()
    request = api.detail_request("67f32a94000000001d02eb4a")
    with pytest.raises(IgnoreRequest):  # not retried: nothing for the spider to parse
        await mw.process_response(request, answer(request, 400))
    stats = crawler.stats.get_stats()
    assert stats["justoneapi/notes/rejected"] == 1
    assert stats["justoneapi/code/400"] == 1
    assert "justoneapi/give_up" not in stats and "justoneapi/retry/count" not in stats
    assert "justoneapi/billed" not in stats
    assert "scrapy crawl note -a ids=67f32a94000000001d02eb4a" in caplog.text


@deferred_f_from_coro_f
async def test_no_content_is_billed_and_passed_without_retry():
    crawler, mw, api = build()
    request = api.detail_request("67f32a94000000001d02eb4a")
    response = answer(request, 201)
    assert await mw.process_response(request, response) is response
    assert crawler.stats.get_value("justoneapi/billed") == 1
    assert crawler.stats.get_value("justoneapi/retry/count") is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (100, "justoneapi_invalid_token"),
        (303, "justoneapi_daily_quota_exceeded"),
        (600, "justoneapi_permission_denied"),
        (601, "justoneapi_insufficient_balance"),
        (602, "justoneapi_account_suspended"),
    ],
)
@deferred_f_from_coro_f
async def test_account_codes_stop_the_crawl_and_keep_requests_for_a_resume(code, reason):
    crawler, mw, api = build()
    request = api.feed_request("homefeed_food_v3", 1)
    kept = await mw.process_response(request, answer(request, code, 401 if code == 100 else 200))
    assert mw.stop_reason == reason
    # Handed back to the scheduler (JOBDIR keeps it), never sent again now.
    assert isinstance(kept, Request) and kept.url == request.url and kept.dont_filter
    later = api.feed_request("homefeed_food_v3", 2)
    assert mw.process_request(later).url == later.url
    assert crawler.stats.get_value("justoneapi/requests") is None


@deferred_f_from_coro_f
async def test_rate_limit_retries_without_spending_the_retry_budget():
    crawler, mw, api = build(JUSTONEAPI_RATE_LIMIT_RETRY_TIMES="3")
    request = api.feed_request("homefeed_food_v3", 1)
    for _ in range(3):
        request = await mw.process_response(request, answer(request, 302))
        assert "retry_times" not in request.meta
    with pytest.raises(IgnoreRequest):
        await mw.process_response(request, answer(request, 302))
    assert crawler.stats.get_value("justoneapi/rate_limited") == 4
    assert crawler.stats.get_value("justoneapi/give_up/rate_limited") == 1


@pytest.mark.parametrize("setting", ["JUSTONEAPI_RETRY_BACKOFF_BASE", "JUSTONEAPI_RATE_LIMIT_RETRY_TIMES"])
def test_bad_backoff_settings_are_refused_not_disabled(setting):
    crawler = get_crawler(Spider, {"ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0}, setting: "-1"})
    with pytest.raises(ValueError, match=f"Setting {setting}='-1'"):
        BusinessCodeMiddleware.from_crawler(crawler)
