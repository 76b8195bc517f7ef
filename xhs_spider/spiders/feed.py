"""``scrapy crawl feed -a oid=...``: channel feeds, then every note's detail."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Spider
from scrapy.exceptions import CloseSpider

from xhs_spider import codes
from xhs_spider.api import JustOneApi, parse_envelope
from xhs_spider.arguments import SpiderArgumentError, parse_bool, parse_int
from xhs_spider.channels import UnknownChannel, parse_channels
from xhs_spider.items import FeedAppearanceItem, NoteItem
from xhs_spider.normalize import card_fields, note_fields, now_iso, skip_reason

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy import Request
    from scrapy.http import Response

logger = logging.getLogger(__name__)

MAX_PAGES = 1000
DETAIL_PRIORITY = 10  # notes already found come before more feed pages
BAD_ARGUMENTS_REASON = "bad_arguments"


class FeedSpider(Spider):
    name = "feed"

    def __init__(
        self,
        oid: str = "homefeed_recommend",
        pages: str | int | None = None,
        details: str | bool = True,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.argument_error: str | None = None
        self._raw_pages = pages
        try:
            self.channels = parse_channels(oid)
            self.details = parse_bool("details", details)
            if pages is not None:
                self.pages = parse_int("pages", pages, minimum=1, maximum=MAX_PAGES)
        except (SpiderArgumentError, UnknownChannel) as exc:
            self.argument_error = str(exc)
        self.seen_notes: set[str] = set()

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> str | None:
        """The problem with these spider arguments, for a check before crawling."""
        return cls(**kwargs).argument_error

    async def start(self) -> AsyncIterator[Any]:
        if self.argument_error is not None:
            logger.error("%(problem)s", {"problem": self.argument_error})
            raise CloseSpider(BAD_ARGUMENTS_REASON)
        # Settings are final only once the crawl starts (add-ons apply late).
        self.api = JustOneApi.from_crawler(self.crawler)
        if self._raw_pages is None:
            self.pages = self.crawler.settings.getint("XHS_FEED_PAGES")
        for channel in self.channels:
            yield self._feed_request(channel, 1)

    def _feed_request(self, channel: str, page: int) -> Request:
        return self.api.feed_request(
            channel,
            page,
            callback=self.parse_feed,
            cb_kwargs={"channel": channel, "page": page},
        )

    def parse_feed(
        self, response: Response, channel: str, page: int
    ) -> Iterator[Any]:
        stats = self.crawler.stats
        cards = parse_envelope(response).data
        if not isinstance(cards, list):
            stats.inc_value("justoneapi/feed/malformed_page")
            logger.error(
                "Feed page %(channel)s #%(page)d has no card list; stopping that channel.",
                {"channel": channel, "page": page},
            )
            return
        stats.inc_value("justoneapi/feed/pages")
        crawled_at = now_iso()
        new_notes = 0
        for position, card in enumerate(cards, start=1):
            stats.inc_value("justoneapi/feed/cards")
            reason = skip_reason(card)
            if reason is not None:
                stats.inc_value(f"justoneapi/feed/cards_skipped/{reason}")
                continue
            fields = card_fields(
                card, channel=channel, page=page, position=position, crawled_at=crawled_at
            )
            yield FeedAppearanceItem(fields)
            note_id = fields["note_id"]
            if note_id in self.seen_notes:
                continue
            self.seen_notes.add(note_id)
            new_notes += 1
            if self.details:
                yield self.detail_request(note_id)
        yield from self._next_page(channel, page, bool(cards), new_notes)

    def _next_page(
        self, channel: str, page: int, had_cards: bool, new_notes: int
    ) -> Iterator[Request]:
        if not had_cards:
            stop = "empty_page"
        elif not new_notes:
            stop = "no_new_notes"
        elif page >= self.pages:
            return
        else:
            yield self._feed_request(channel, page + 1)
            return
        self.crawler.stats.inc_value(f"justoneapi/feed/stopped_early/{stop}")
        logger.info(
            "Channel %(channel)s stops at page %(page)d: %(why)s.",
            {"channel": channel, "page": page, "why": stop.replace("_", " ")},
        )

    def detail_request(self, note_id: str) -> Request:
        self.crawler.stats.inc_value("justoneapi/notes/detail_requested")
        return self.api.detail_request(
            note_id,
            callback=self.parse_detail,
            cb_kwargs={"note_id": note_id},
            priority=DETAIL_PRIORITY,
        )

    def parse_detail(self, response: Response, note_id: str) -> Iterator[NoteItem]:
        envelope = parse_envelope(response)
        if envelope.code == codes.NO_CONTENT:
            self.crawler.stats.inc_value("justoneapi/notes/unavailable")
            logger.info("Note %(note_id)s is unavailable (201).", {"note_id": note_id})
            return
        data = envelope.data
        if not isinstance(data, dict) or data.get("noteId") != note_id:
            self.crawler.stats.inc_value("justoneapi/notes/malformed_detail")
            logger.error(
                "Detail of note %(note_id)s came back without that note; skipped.",
                {"note_id": note_id},
            )
            return
        yield NoteItem(
            note_fields(data, crawled_at=now_iso(), request_id=envelope.request_id)
        )
