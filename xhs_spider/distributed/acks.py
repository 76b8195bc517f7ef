"""Tells the worker a request taken from the shared queue is done.

A response is done once its callback's output has been handed on (items to
the pipelines, which journal them; new requests to the queue); a failure
once its errback ran (``NoteDetailSpider.api_failed`` calls
:func:`release_in_hand`). Until then, a worker that dies leaves the request
in hand, and another worker puts it back in the queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from xhs_spider.distributed.worker import shared_worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self


class InHandRelease:
    def __init__(self, crawler: Crawler):
        if shared_worker(crawler) is None:
            raise NotConfigured("not a worker of a shared crawl")
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        try:
            yield from result
        finally:
            release_in_hand(self.crawler, response.request)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any],
    ) -> AsyncIterator[Any]:
        try:
            async for element in result:
                yield element
        finally:
            release_in_hand(self.crawler, response.request)


def release_in_hand(crawler: Crawler, request: Request | None) -> None:
    worker = shared_worker(crawler)
    if worker is not None and request is not None:
        worker.release(request)
