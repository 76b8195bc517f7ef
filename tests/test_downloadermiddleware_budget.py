"""BillingBudgetMiddleware: never more billed calls than JUSTONEAPI_MAX_BILLED_CALLS.

That a budget ends a ``scrapy crawl`` with exit status 1 is tested in
test_commands_crawl.py.
"""

import asyncio
import json

import pytest
from scrapy import Spider
from scrapy.exceptions import DownloadConnectionRefusedError, DownloadTimeoutError, NotConfigured
from scrapy.http import JsonResponse
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

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


async def let_the_loop_run() -> None:
    """A few turns of the event loop: whatever can go on, goes on."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_unlimited_budget_is_off():
    with pytest.raises(NotConfigured):
        build(0)


@deferred_f_from_coro_f
async def test_requests_wait_while_calls_in_flight_could_spend_the_budget():
    mw, api = build(2)
    first, second, third = (api.detail_request(f"{n:024x}") for n in (1, 2, 3))
    assert await mw.process_request(first) is None
    assert await mw.process_request(second) is None
    waiting = asyncio.ensure_future(mw.process_request(third))
    await let_the_loop_run()
    assert not waiting.done()  # 0 billed + 2 in flight could spend 2

    await mw.process_response(first, answer(first, 0))  # billed: 1 + 1 in flight
    await let_the_loop_run()
    assert not waiting.done()
    await mw.process_response(second, answer(second, 301))  # free: 1 + 0
    await let_the_loop_run()
    assert waiting.done() and waiting.result() is None
    await mw.process_response(third, answer(third, 0))  # billed: 2, spent
    assert mw.ledger.billed == 2 and mw.spent

    fourth = api.detail_request(f"{4:024x}")
    kept = await mw.process_request(fourth)
    assert kept.url == fourth.url and kept.dont_filter  # back to the scheduler, unsent
    assert fourth not in mw.in_flight


@deferred_f_from_coro_f
async def test_cache_hits_and_failures_are_not_billed():
    mw, api = build(5)
    request = api.detail_request(f"{1:024x}")
    await mw.process_request(request)
    await mw.process_response(request, answer(request, 0, flags=["cached"]))
    refused = api.detail_request(f"{2:024x}")
    await mw.process_request(refused)
    await mw.process_exception(refused, DownloadConnectionRefusedError())
    assert mw.ledger.billed == 0 and not mw.in_flight


@deferred_f_from_coro_f
async def test_a_call_that_timed_out_counts_as_spent():
    mw, api = build(5)
    request = api.detail_request(f"{1:024x}")
    await mw.process_request(request)
    await mw.process_exception(request, DownloadTimeoutError("took longer than 60 s"))
    assert mw.ledger.billed == 1 and not mw.in_flight


@deferred_f_from_coro_f
async def test_a_body_that_is_not_the_envelope_counts_as_spent():
    # A proxy's error page or a cut-off body proves nothing: the call may have
    # reached the API and been billed (the shared ledger's rule too).
    mw, api = build(5)
    cut_off, envelope = api.detail_request(f"{1:024x}"), api.detail_request(f"{2:024x}")
    for request in (cut_off, envelope):
        await mw.process_request(request)
    await mw.process_response(cut_off, JsonResponse(cut_off.url, body=b'{"code": 0, "da', request=cut_off))
    await mw.process_response(envelope, answer(envelope, 301))
    assert mw.ledger.billed == 1 and not mw.in_flight
