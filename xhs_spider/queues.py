"""A JOBDIR request queue that a hard kill cannot leave unreadable or lose.

Scrapy's default disk queues keep their state in files written at a clean
close: after a kill -9 the next run fails to read them, or never opens them.
Here every push is a committed SQLite row (queuelib's SQLite queues, which
Scrapy ships), and the priority queue finds the queues on disk itself
instead of trusting ``active.json``, which only a clean close writes.

Feed page requests, the pages of discovery sources (search, a creator's
or a topic's notes), the pages of a note's comments and those of a
comment's replies are not written to disk: a resumed crawl derives where
each channel, source, note and reply paging stands from the store
(``feed_pages``, ``source_pages``), so a page that was in flight at the
kill is asked for again and no page is queued twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.pqueues import ScrapyPriorityQueue
from scrapy.squeues import PickleFifoSQLiteQueue, PickleLifoSQLiteQueue

from xhs_spider.api.client import COMMENT_ENDPOINTS, DISCOVERY_ENDPOINTS, FEED, endpoint_of

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class _WithoutFeedPages:
    """Refuses feed, discovery, comment and reply pages, which the scheduler then keeps in memory."""

    def push(self, request: Request) -> None:
        if endpoint_of(request) in (FEED, *DISCOVERY_ENDPOINTS, *COMMENT_ENDPOINTS):
            raise ValueError("pages are derived from the store on resume, not queued on disk")
        super().push(request)  # type: ignore[misc]  # the queue class mixed in after this


# Scrapy builds its queue classes at run time, so mypy cannot see them as types.
class DetailRequestQueue(_WithoutFeedPages, PickleLifoSQLiteQueue):  # type: ignore[valid-type,misc]
    """Crash-safe, last in, first out (Scrapy's default order)."""


class StartRequestQueue(_WithoutFeedPages, PickleFifoSQLiteQueue):  # type: ignore[valid-type,misc]
    """Crash-safe, first in, first out (Scrapy's order for start requests)."""


class RecoveringPriorityQueue(ScrapyPriorityQueue):
    """Opens every priority queue found on disk, whatever ``active.json`` says."""

    def __init__(self, crawler: Crawler, downstream_queue_cls: Any, key: str,
                 startprios: Any = (), **kwargs: Any):
        priorities = set(startprios) | _priorities_on_disk(key)
        super().__init__(crawler, downstream_queue_cls, key, sorted(priorities), **kwargs)


def _priorities_on_disk(key: str) -> set[int]:
    if not key or not Path(key).is_dir():
        return set()
    found = set()
    for path in Path(key).iterdir():
        try:
            found.add(int(path.name.removesuffix("s")))
        except ValueError:
            continue  # active.json and the like
    return found
