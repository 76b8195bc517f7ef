"""Sends each note's detail request once a run, and only under its lease.

The spiders lease notes before they ask for them (see
:class:`~xhs_spider.extensions.freshness.Freshness`), but a request can also
come back from a JOBDIR queue, written before a kill: by then its note may
be stored, leased by another crawl, or asked for again by this run. This
middleware lets such a request go only if the note is leased to this run and
not already sent; retries of a request it let go pass straight through.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from xhs_spider.api.client import DETAIL, SENT_BY_META, endpoint_of
from xhs_spider.config.declarations import shared_crawl
from xhs_spider.extensions.freshness import Freshness
from xhs_spider.stats import NOTES_SKIPPED_SENT

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)



class ClaimMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        shared = shared_crawl(crawler.settings)
        # A retry of a crawl shared through Redis (docs/distributed.md) goes
        # back to the shared queue and may come back to any worker, also one
        # that sent the note before: the crawl let it go, not the process.
        self.run = f"crawl:{shared}" if shared else uuid.uuid4().hex

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if endpoint_of(request) != DETAIL or request.meta.get(SENT_BY_META) == self.run:
            return
        freshness = self.crawler.get_extension(Freshness)
        note_id = request.cb_kwargs.get("note_id")
        if freshness is None or not note_id:
            return
        if not await freshness.may_send(note_id):
            self.crawler.stats.inc_value(NOTES_SKIPPED_SENT)
            logger.debug("Not asking again for note %(note_id)s.", {"note_id": note_id})
            raise IgnoreRequest(f"note {note_id} is sent, stored or leased elsewhere")
        request.meta[SENT_BY_META] = self.run
