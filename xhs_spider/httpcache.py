"""Scrapy's HTTP cache, never caching an API answer that was not billed.

With ``HTTPCACHE_ENABLED``, Scrapy's default policy stores every answer: a
transient failure (code 301, 500, a proxy's HTML page) would be stored and
served to every retry, and the request given up on without another call.
Only answers the API billed (codes 0 and 201) are worth keeping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.extensions.httpcache import DummyPolicy

from xhs_spider.api.client import endpoint_of
from xhs_spider.api.envelope import is_billed

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


class BilledAnswersOnlyPolicy(DummyPolicy):
    def should_cache_response(self, response: Response, request: Request) -> bool:
        if endpoint_of(request) is not None and not is_billed(response):
            return False
        return super().should_cache_response(response, request)
