"""``scrapy crawl feed -a oid=...``: channel feeds, then every note's detail."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

from xhs_spider import stats as keys
from xhs_spider.api.channels import parse_channels
from xhs_spider.api.codes import NO_CONTENT
from xhs_spider.api.envelope import parse_envelope
from xhs_spider.api.normalize import card_fields, now_iso, skip_reason
from xhs_spider.config.declarations import XHS_FEED_PAGES
from xhs_spider.items import FeedAppearanceItem
from xhs_spider.run.recent import RecentSet
from xhs_spider.spiders.arguments import About, Comments, Refresh, parse_bool, parse_int
from xhs_spider.spiders.base import NoteDetailSpider, parse_comments_argument

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy import Request
    from scrapy.http import Response

logger = logging.getLogger(__name__)

MAX_PAGES = 1000


class FeedSpider(NoteDetailSpider):
    """Reads the feed pages of channels, then the detail of every note found."""

    name = "feed"
    queued_callbacks = NoteDetailSpider.queued_callbacks | {"parse_feed"}

    def parse_arguments(
        self,
        *,
        oid: Annotated[str, About(
            "one channel, several comma-separated, or all; scrapy channels lists them"
        )] = "homefeed_recommend",
        pages: Annotated[str | int | None, About(
            f"feed pages per channel, 1 to {MAX_PAGES}", default_from=XHS_FEED_PAGES
        )] = None,
        details: Annotated[str | bool, About(
            "fetch the detail of every note found; false reads the feeds only"
        )] = True,
        refresh: Refresh = False,
        comments: Comments = 0,
    ) -> None:
        self.max_comments = parse_comments_argument(comments)
        self.channels = parse_channels(oid)
        #: None until the crawl starts: then XHS_FEED_PAGES.
        self.pages_asked = (
            None if pages is None else parse_int("pages", pages, minimum=1, maximum=MAX_PAGES)
        )
        self.pages = 0
        self.details = parse_bool("details", details)
        self.refresh = parse_bool("refresh", refresh)
        self.seen_notes: RecentSet[str] = RecentSet()
        #: Notes asked for before the feeds found them (unfetched ones): not
        #: asked again, but still new to the feed that shows them.
        self.asked_first: set[str] = set()

    def prepare(self) -> None:
        # With JOBDIR, SpiderState keeps spider.state across pause and resume:
        # a resumed run must not ask again for the notes it already asked for.
        state = getattr(self, "state", None)
        if state is not None:
            kept = state.get("seen_notes")  # a set in JOBDIRs of earlier versions
            self.seen_notes = kept if isinstance(kept, RecentSet) else RecentSet(kept or ())
            state["seen_notes"] = self.seen_notes
        self.pages = self.pages_asked or XHS_FEED_PAGES.get(self.crawler.settings)
        self.run_arguments.setdefault("pages", self.pages)

    async def first_requests(self) -> AsyncIterator[Request]:
        if self.details:
            async for request in self.unfetched_requests(self.channels, skip_fresh=not self.refresh):
                self.asked_first.add(request.cb_kwargs["note_id"])
                yield request
        where = await self._where_channels_stand()
        for channel in self.channels:
            page = where.get(channel, 1)
            if page is not None:
                yield self._feed_request(channel, page)

    async def _where_channels_stand(self) -> dict[str, int | None]:
        """The next page of each channel an earlier run of this crawl read
        (``None``: done); channels it never read start at page 1."""
        last: dict[str, dict[str, Any]] = {}
        for record in await self.freshness.feed_pages() if self.freshness else []:
            if record["page"] > last.get(record["channel"], {"page": 0})["page"]:
                last[record["channel"]] = record
        where: dict[str, int | None] = {
            channel: record["page"] + 1 if record["next"] and record["page"] < self.pages else None
            for channel, record in last.items()
        }
        if where:
            logger.info("Resuming the feeds where this crawl left them: %(where)s",
                        {"where": where})
        return where

    def _feed_request(self, channel: str, page: int) -> Request:
        return self.api.feed_request(
            channel,
            page,
            callback=self.parse_feed,
            errback=self.api_failed,
            cb_kwargs={"channel": channel, "page": page},
        )

    async def parse_feed(
        self, response: Response, channel: str, page: int
    ) -> AsyncIterator[Any]:
        cards = self._cards(response, channel, page)
        if cards is None:
            return
        new_notes: list[str] = []
        for appearance in self._appearances(cards, channel, page):
            yield appearance
            if appearance["note_id"] not in self.seen_notes:
                self.seen_notes.add(appearance["note_id"])
                new_notes.append(appearance["note_id"])
        if self.details:
            unasked = [note_id for note_id in new_notes if note_id not in self.asked_first]
            wanted = await self.notes_to_fetch(unasked, skip_fresh=not self.refresh)
            for note_id in wanted:
                yield self.detail_request(note_id)
        next_page = self._next_page(channel, page, bool(cards), len(new_notes))
        if next_page is not None:
            yield next_page
        # After the next page is queued: a resumed crawl goes on from here.
        if self.freshness is not None:
            self.freshness.record_feed_page(channel, page, len(cards), len(new_notes),
                                            next_page is not None)

    def _cards(self, response: Response, channel: str, page: int) -> list[Any] | None:
        """The cards of a feed page; ``None`` when it has none to read."""
        envelope = parse_envelope(response)
        where = {"channel": channel, "page": page}
        if envelope.code == NO_CONTENT:
            self.crawler.stats.inc_value(keys.FEED_NO_CONTENT)
            logger.info("Feed page %(channel)s #%(page)d has no content (201).", where)
            return None
        if not isinstance(envelope.data, list):
            self.crawler.stats.inc_value(keys.FEED_MALFORMED_PAGE)
            logger.error(
                "Feed page %(channel)s #%(page)d has no card list; stopping that channel.", where
            )
            return None
        self.crawler.stats.inc_value(keys.FEED_PAGES)
        self.crawler.stats.inc_value(keys.FEED_PAGES_BY_CHANNEL.format(channel=channel))
        return envelope.data

    def _appearances(
        self, cards: list[Any], channel: str, page: int
    ) -> Iterator[FeedAppearanceItem]:
        stats = self.crawler.stats
        crawled_at = now_iso()
        for position, card in enumerate(cards, start=1):
            stats.inc_value(keys.FEED_CARDS)
            reason = skip_reason(card)
            rejected: list[str] = []
            if reason is None:
                try:
                    fields = card_fields(card, channel=channel, page=page, position=position,
                                         crawled_at=crawled_at, rejected=rejected)
                except Exception:
                    # Normalisation is meant to be total; should a card still
                    # break it, that card alone is lost, not the page.
                    logger.exception("Feed card %(channel)s #%(page)d/%(position)d is unreadable.",
                                     {"channel": channel, "page": page, "position": position})
                    reason = "malformed"
            if reason is not None:
                stats.inc_value(keys.FEED_CARDS_SKIPPED.format(reason=reason))
                continue
            for field in rejected:
                stats.inc_value(keys.FEED_INVALID.format(field=field))
            yield FeedAppearanceItem(fields)

    def _next_page(
        self, channel: str, page: int, had_cards: bool, new_notes: int
    ) -> Request | None:
        if not had_cards:
            stop = "empty_page"
        elif not new_notes:
            stop = "no_new_notes"
        elif page >= self.pages:
            return None
        else:
            return self._feed_request(channel, page + 1)
        self.crawler.stats.inc_value(keys.FEED_STOPPED_EARLY.format(why=stop))
        logger.info(
            "Channel %(channel)s stops at page %(page)d: %(why)s.",
            {"channel": channel, "page": page, "why": stop.replace("_", " ")},
        )
        return None
