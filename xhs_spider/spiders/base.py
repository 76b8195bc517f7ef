"""What the project's spiders share: arguments, the API client, note details."""

from __future__ import annotations

import inspect
import logging
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from scrapy import Spider
from scrapy.exceptions import CloseSpider, IgnoreRequest

from xhs_spider import stats as keys
from xhs_spider.api import codes
from xhs_spider.api.client import SHARE, JustOneApi
from xhs_spider.api.envelope import parse_envelope
from xhs_spider.api.normalize import note_fields, note_id_of, now_iso
from xhs_spider.api.share import resolved_url
from xhs_spider.config.declarations import COMMENTS_TTL, DETAIL_TTL, MAX_BILLED_CALLS
from xhs_spider.distributed.acks import release_in_hand
from xhs_spider.distributed.worker import shared_worker
from xhs_spider.extensions.freshness import Freshness
from xhs_spider.items import NoteItem
from xhs_spider.outcome.reasons import BAD_ARGUMENTS, DRY_RUN
from xhs_spider.spiders.arguments import DRY_RUN_ARGUMENT, parse_bool, parse_int, unknown_argument
from xhs_spider.spiders.comment_paging import MAX_CAP, CommentPaging
from xhs_spider.spiders.dry_run import Times, predict
from xhs_spider.stats import (
    NOTES_DETAIL_REQUESTED,
    NOTES_MALFORMED_DETAIL,
    NOTES_NOT_ATTEMPTED,
    NOTES_UNAVAILABLE,
    NOTES_UNFETCHED,
    SHARE_LINKS_KNOWN,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from scrapy import Request
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

DETAIL_PRIORITY = 10  # notes already found come before more feed pages


class NoteDetailSpider(CommentPaging, Spider):
    """Base of the spiders: checks ``-a`` arguments, asks for note details.

    Subclasses declare their arguments as the keyword-only parameters of
    :meth:`parse_arguments` and yield their first requests from
    :meth:`first_requests`. Arguments starting with ``_`` (Scrapyd's
    ``_job``) pass through to Scrapy untouched.
    """

    #: Declares the spider's ``-a`` arguments as its keyword-only parameters.
    parse_arguments: Callable[..., None]
    #: The methods its requests name as callback or errback: the only ones a
    #: request from the shared queue may name (:mod:`xhs_spider.distributed.serializer`).
    queued_callbacks: ClassVar[frozenset[str]] = (
        frozenset({"parse_detail", "api_failed"}) | CommentPaging.comment_callbacks)
    #: Whether the notes a spider fetches are asked for by name (``note -a
    #: ids``): then their comments are paged even when fresh.
    comments_named: bool = False

    def __init__(self, **kwargs: Any):
        super().__init__(**{k: v for k, v in kwargs.items() if k.startswith("_")})
        self.run_arguments = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        self.argument_error: str | None = None
        #: Notes whose detail was asked for and not answered yet (see :meth:`_not_attempted`).
        self.details_pending: set[str] = set()
        try:
            # Every spider's: not one of its parse_arguments.
            self.dry_run = parse_bool(DRY_RUN_ARGUMENT, self.run_arguments.get(DRY_RUN_ARGUMENT, False))
            self._check_names({k: v for k, v in self.run_arguments.items() if k != DRY_RUN_ARGUMENT})
            self.parse_arguments(**{k: v for k, v in self.run_arguments.items() if k != DRY_RUN_ARGUMENT})
        except ValueError as exc:  # SpiderArgumentError, UnknownChannel
            self.argument_error = str(exc)

    def _check_names(self, arguments: dict[str, Any]) -> None:
        accepted = list(inspect.signature(self.parse_arguments).parameters)
        for name, value in arguments.items():
            if name not in accepted:
                raise unknown_argument(name, value, self.name, accepted)

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> str | None:
        """The problem with these spider arguments, for a check before crawling."""
        return cls(**kwargs).argument_error

    async def start(self) -> AsyncIterator[Any]:
        if self.argument_error is not None:
            logger.error("%(problem)s", {"problem": self.argument_error})
            raise CloseSpider(BAD_ARGUMENTS)
        # Settings are final only once the crawl starts (add-ons apply late).
        self.api = JustOneApi.from_crawler(self.crawler)
        self.freshness = self.crawler.get_extension(Freshness)
        self.prepare_comments()
        self.prepare()
        if self.dry_run:
            await self._dry_run()
        worker = shared_worker(self.crawler)
        # A shared crawl (REDIS_URL) is seeded once, by its first worker; the
        # others, and a resumed crawl, take their requests from the queue.
        if worker is not None and not await worker.seeds():
            return
        async for request in self.first_requests():
            yield request
        for request in await self.resumed_comment_requests():
            yield request
        if worker is not None:
            await worker.seeded()

    def prepare(self) -> None:
        """What a spider needs before its first callback, seeding or not."""

    async def _dry_run(self) -> None:
        """``-a dry_run=true``: log the most billed calls the run would make,
        read from the store on its thread, and end the run before any call."""
        settings = self.crawler.settings
        times = Times.of(DETAIL_TTL.get(settings), COMMENTS_TTL.get(settings))
        budget = MAX_BILLED_CALLS.get(settings)
        ask = partial(predict, self, times=times, budget=budget)
        prediction = ask(None) if self.freshness is None else await self.freshness.read_only(ask)
        self.crawler.stats.set_value(keys.DRY_RUN_BILLED_AT_MOST, prediction.at_most)
        logger.info("%(line)s", {"line": prediction.line()})
        raise CloseSpider(DRY_RUN)

    async def first_requests(self) -> AsyncIterator[Request]:
        raise NotImplementedError
        yield  # pragma: no cover

    async def notes_to_fetch(self, note_ids: list[str], *, skip_fresh: bool) -> list[str]:
        """*note_ids* to ask details for; see :class:`Freshness`."""
        if self.freshness is None:
            return note_ids
        return await self.freshness.notes_to_fetch(note_ids, skip_fresh=skip_fresh)

    async def unfetched_requests(self, channels: list[str] | None, *, skip_fresh: bool,
                                 sources: list[str] | None = None) -> AsyncIterator[Request]:
        """Details of notes seen in feeds (of *channels*, or any), or under
        *sources* (``kind:value``), but never paid for: what a killed run had
        found and not yet fetched."""
        if self.freshness is None:
            return
        if sources is not None:
            found = await self.freshness.unfetched_source_note_ids(sources)
        else:
            found = await self.freshness.unfetched_note_ids(channels)
        wanted = await self.notes_to_fetch(found, skip_fresh=skip_fresh)
        if wanted:
            self.crawler.stats.inc_value(NOTES_UNFETCHED, len(wanted))
            logger.info("Fetching %(count)d notes seen in feeds but never fetched.",
                        {"count": len(wanted)})
        for note_id in wanted:
            yield self.detail_request(note_id)

    def detail_request(self, note_id: str) -> Request:
        self.crawler.stats.inc_value(NOTES_DETAIL_REQUESTED)
        self._not_attempted(add=note_id)
        return self.api.detail_request(
            note_id,
            callback=self.parse_detail,
            errback=self.api_failed,
            cb_kwargs={"note_id": note_id},
            priority=DETAIL_PRIORITY,
        )

    async def known_share_links(self, links: list[str]) -> dict[str, str]:
        """Where those of *links* resolved in earlier runs lead: never paid twice."""
        if self.freshness is None or not links:
            return {}
        known: dict[str, str] = await self.freshness.share_links(links)
        self.crawler.stats.inc_value(SHARE_LINKS_KNOWN, len(known))
        return known

    def share_request(self, link: str, callback: Callable[..., Any]) -> Request:
        return self.api.share_request(link, callback=callback, errback=self.api_failed,
                                      cb_kwargs={"share_url": link}, priority=DETAIL_PRIORITY)

    def share_target(self, response: Response, share_url: str) -> str | None:
        """The URL a share link's answer names (recorded, so it is paid once), or
        ``None`` (counted; the caller keeps the answer as a raw answer)."""
        url = resolved_url(parse_envelope(response).data)
        stats = self.crawler.stats
        if url is None:
            stats.inc_value(keys.DISCOVERY_UNREADABLE.format(endpoint=SHARE))
            logger.warning("The share link %(link)s resolved to nothing the crawl can read (its "
                           "body is kept in the store's raw_answers): %(body)r",
                           {"link": share_url, "body": response.text[:300]})
            return None
        stats.inc_value(keys.DISCOVERY_READ.format(endpoint=SHARE))
        stats.inc_value(keys.SHARE_LINKS_RESOLVED)
        if self.freshness is not None:
            self.freshness.record_share_link(share_url, url)
        return url

    async def parse_detail(self, response: Response, note_id: str) -> AsyncIterator[Any]:
        for item in self.detail_items(response, note_id):
            yield item
            if self.max_comments:
                counter = item["counts"].get("comments")
                for request in await self.comment_requests(
                        [note_id], named=self.comments_named, counters={note_id: counter}):
                    yield request

    def _not_attempted(self, *, add: str | None = None, answered: str | None = None) -> None:
        """Keep ``xhs/notes/not_attempted`` at the notes asked for and not
        answered: at close, those a run stopped early never fetched."""
        if add is not None:
            self.details_pending.add(add)
        if answered is not None:
            self.details_pending.discard(answered)
        self.crawler.stats.set_value(NOTES_NOT_ATTEMPTED, len(self.details_pending))

    def detail_items(self, response: Response, note_id: str) -> Iterator[NoteItem]:
        self._not_attempted(answered=note_id)
        envelope = parse_envelope(response)
        if envelope.code == codes.NO_CONTENT:
            self.crawler.stats.inc_value(NOTES_UNAVAILABLE)
            logger.info("Note %(note_id)s is unavailable (201).", {"note_id": note_id})
            if self.freshness is not None:
                self.freshness.record_unavailable(note_id)
            return
        data = envelope.data
        if not isinstance(data, dict) or note_id_of(data.get("noteId")) != note_id:
            self.crawler.stats.inc_value(NOTES_MALFORMED_DETAIL)
            if self.freshness is not None:
                self.freshness.record_failed(note_id, "mismatched_id")
            logger.error(
                "Detail of note %(note_id)s came back without that note; skipped.",
                {"note_id": note_id},
            )
            return
        rejected: list[str] = []
        fields = note_fields(data, crawled_at=now_iso(), request_id=envelope.request_id,
                             rejected=rejected)
        for field in rejected:
            self.crawler.stats.inc_value(keys.NOTES_INVALID.format(field=field))
        fields["endpoint"] = urlsplit(response.url).path
        yield NoteItem(fields)

    def api_failed(self, failure: Failure) -> None:
        """A request that got no answer at all, after Scrapy's retries (a
        refused connection, DNS, timeouts): a give-up like any other."""
        request = getattr(failure, "request", None)
        release_in_hand(self.crawler, request)
        if request is not None and request.cb_kwargs.get("note_id"):
            self._not_attempted(answered=request.cb_kwargs["note_id"])
        if failure.check(IgnoreRequest):
            return  # given up on (and counted) or skipped on purpose
        stats = self.crawler.stats
        stats.inc_value(keys.GIVE_UP)
        stats.inc_value(keys.GIVE_UP_BY.format(reason="network"))
        logger.error("Gave up on %(request)s: %(error)s",
                     {"request": getattr(failure, "request", None), "error": failure.getErrorMessage()})


def parse_comments_argument(comments: object) -> int:
    """``-a comments=N`` of the spiders that fetch notes: their comments, up
    to N a note (0: none)."""
    return parse_int("comments", comments, minimum=0, maximum=MAX_CAP)

