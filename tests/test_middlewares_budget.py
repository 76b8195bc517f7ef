import json

import pytest
from scrapy import Spider
from scrapy.exceptions import DownloadConnectionRefusedError, DownloadTimeoutError, NotConfigured
from scrapy.http import JsonResponse
from scrapy.utils.test import get_crawler
from twisted.internet import reactor  # noqa: F401 - installs Twisted's default reactor
from twisted.internet.defer import Deferred

from xhs_spider.api.client import JustOneApi
from xhs_spider.middlewares.budget import BillingBudgetMiddleware


def build(budget):
    crawler = get_crawler(
        Spider,
        {"ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0}, "JUSTONEAPI_MAX_BILLED_CALLS": str(budget)},
    )
    return BillingBudgetMiddleware.from_crawler(crawler), JustOneApi.from_crawler(crawler)


def answer(request, code, flags=None):
    body = json.dumps({"code": code, "data": None}).encode()
    return JsonResponse(request.url, body=body, request=request, flags=flags)


def started(coroutine) -> Deferred:
    """Run a middleware coroutine with Twisted's own driver (no event loop)."""
    return Deferred.fromCoroutine(coroutine)


def test_unlimited_budget_is_off():
    with pytest.raises(NotConfigured):
        build(0)


def test_requests_wait_while_calls_in_flight_could_spend_the_budget():
    mw, api = build(2)
    first, second, third = (api.detail_request(f"{n:024x}") for n in (1, 2, 3))
    assert started(mw.process_request(first)).called
    assert started(mw.process_request(second)).called
    waiting = started(mw.process_request(third))
    assert not waiting.called  # 0 billed + 2 in flight could spend 2

    mw.process_response(first, answer(first, 0))  # billed: 1 + 1 in flight
    assert not waiting.called
    mw.process_response(second, answer(second, 301))  # free: 1 + 0
    assert waiting.called and waiting.result is None
    mw.process_response(third, answer(third, 0))  # billed: 2, spent
    assert mw.billed == 2 and mw.spent

    fourth = api.detail_request(f"{4:024x}")
    kept = started(mw.process_request(fourth)).result
    assert kept.url == fourth.url and kept.dont_filter  # back to the scheduler, unsent
    assert fourth not in mw.in_flight


def test_cache_hits_and_failures_are_not_billed():
    mw, api = build(5)
    request = api.detail_request(f"{1:024x}")
    started(mw.process_request(request))
    mw.process_response(request, answer(request, 0, flags=["cached"]))
    refused = api.detail_request(f"{2:024x}")
    started(mw.process_request(refused))
    mw.process_exception(refused, DownloadConnectionRefusedError())
    assert mw.billed == 0 and not mw.in_flight


def test_a_call_that_timed_out_counts_as_spent():
    mw, api = build(5)
    request = api.detail_request(f"{1:024x}")
    started(mw.process_request(request))
    mw.process_exception(request, DownloadTimeoutError("took longer than 60 s"))
    assert mw.billed == 1 and not mw.in_flight
