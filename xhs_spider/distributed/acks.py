"""Tells the worker a request taken from the shared queue is done.

A response is done once its callback's output has been handed on (new
requests to the queue) and every item it gave has been through the pipelines
(so journaled by the store's); a failure once its errback ran
(``NoteDetailSpider.api_failed`` calls :func:`release_in_hand`). Until then, a
worker that dies leaves the request in hand, and another worker puts it back
in the queue: a paid answer is never dropped between the two.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from xhs_spider.distributed.worker import shared_worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self


class InHandRelease:
    def __init__(self, crawler: Crawler):
        if shared_worker(crawler) is None:
            raise NotConfigured("not a worker of a shared crawl")
        self.crawler = crawler
        #: Items of a response not yet through the pipelines, by request.
        self.items_pending: Counter[Request] = Counter()
        #: Requests whose callback output was all handed on.
        self.handed_on: set[Request] = set()
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_done, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        try:
            for element in result:
                self._count(response, element)
                yield element
        finally:
            self._output_done(response)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any],
    ) -> AsyncIterator[Any]:
        try:
            async for element in result:
                self._count(response, element)
                yield element
        finally:
            self._output_done(response)

    def _count(self, response: Response, element: Any) -> None:
        if not isinstance(element, Request) and response.request is not None:
            self.items_pending[response.request] += 1

    def _output_done(self, response: Response) -> None:
        if response.request is not None:
            self.handed_on.add(response.request)
            self._release_if_done(response.request)

    def _item_done(self, response: Response | None = None, **_: Any) -> None:
        request = None if response is None else response.request
        if request is not None and request in self.items_pending:
            self.items_pending[request] -= 1
            self._release_if_done(request)

    def _release_if_done(self, request: Request) -> None:
        if request in self.handed_on and self.items_pending[request] <= 0:
            self.handed_on.discard(request)
            del self.items_pending[request]
            release_in_hand(self.crawler, request)


def release_in_hand(crawler: Crawler, request: Request | None) -> None:
    worker = shared_worker(crawler)
    if worker is not None and request is not None:
        worker.release(request)
