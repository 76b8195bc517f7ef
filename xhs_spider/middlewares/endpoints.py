"""Sends every API request to the endpoint today's settings name.

A request waiting in a JOBDIR queue carries the URL it was built with. If
``JUSTONEAPI_BASE_URL`` or an endpoint path changed since (a switch from
prod-global to prod-cn after a quota stop, a path the vendor moved), the
request is re-based, not dropped: queued requests carry no token, so a new
origin receives nothing that was meant for the old one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from xhs_spider.api.client import JustOneApi
from xhs_spider.stats import REQUESTS_REBASED

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class EndpointMiddleware:
    def __init__(self, crawler: Crawler):
        self.api = JustOneApi.from_crawler(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> Request | None:
        url = self.api.current_url(request)
        if url is None:
            return None
        self.stats.inc_value(REQUESTS_REBASED)
        logger.debug("Re-basing %(request)s on today's endpoint.", {"request": request})
        # A new request goes back through the scheduler, past the dupefilter
        # that saw the old one.
        return request.replace(url=url, dont_filter=True)
