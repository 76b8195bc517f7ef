"""What the spiders of discovery sources share (``search``, ``user``,
``topic``): paging each source, an appearance per note found, the detail of
each note not fresh in the store, and the answers that could not be read.

Each source (a keyword, a creator, a topic) is paged with a
:class:`~xhs_spider.api.paging.PageTrail`: never the same cursor twice,
never past ``pages``. Every page read is recorded in the store
(``source_pages``), after the next page is queued: a resumed crawl (the
same ``JOBDIR`` or ``XHS_CRAWL_ID``) carries each source on from where it
stood, and first fetches the notes its sources found but never paid for.
A paid answer with nothing to read in it is kept as it came (a
``RawAnswerItem``) and counted per endpoint; a run in which an endpoint
answered only such answers ends ``justoneapi_unreadable_answers``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from xhs_spider import stats as keys
from xhs_spider.api.codes import NO_CONTENT
from xhs_spider.api.discovery import DiscoveryPage, FoundNote, read_page
from xhs_spider.api.envelope import parse_envelope
from xhs_spider.api.normalize import now_iso
from xhs_spider.api.paging import PageTrail
from xhs_spider.api.sources import SourceValueError
from xhs_spider.config.declarations import XHS_FEED_PAGES
from xhs_spider.items import AppearanceItem, RawAnswerItem
from xhs_spider.outcome.verdict import unreadable_endpoints
from xhs_spider.run.recent import RecentSet
from xhs_spider.spiders.arguments import SpiderArgumentError, parse_int
from xhs_spider.spiders.base import NoteDetailSpider
from xhs_spider.spiders.comment_paging import raw_answer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from scrapy import Request
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: The most pages a source may be asked to read.
MAX_PAGES = 1000
#: Where a source stands: the next page and the cursor to ask it with, or
#: ``None`` when an earlier run of the crawl read it to its end.
Standing = tuple[int, str | None] | None


class DiscoverySpider(NoteDetailSpider):
    """Base of the spiders that page sources of notes and fetch their details.

    A subclass sets :attr:`kind` (``keyword``, ``user``, ``topic``),
    :attr:`endpoint` and :attr:`by_cursor`, parses its arguments into
    :attr:`sources` (the values the API takes), ``pages_asked``, ``details``
    and ``refresh``, and builds a page's request in :meth:`page_request`.
    """

    kind: ClassVar[str]
    endpoint: ClassVar[str]
    by_cursor: ClassVar[bool]
    queued_callbacks = NoteDetailSpider.queued_callbacks | {"parse_page"}
    #: The default of ``pages`` when not given: the setting XHS_FEED_PAGES.
    default_pages: ClassVar[int | None] = None

    sources: list[str]
    pages_asked: int | None
    details: bool
    refresh: bool

    def prepare(self) -> None:
        self.pages = (self.pages_asked or self.default_pages
                      or XHS_FEED_PAGES.get(self.crawler.settings))
        self.run_arguments.setdefault("pages", self.pages)
        self.seen_notes: RecentSet[str] = RecentSet()
        state = getattr(self, "state", None)
        if state is not None:  # JOBDIR: the notes a paused run already asked for
            kept = state.get("seen_notes")
            self.seen_notes = kept if isinstance(kept, RecentSet) else RecentSet(kept or ())
            state["seen_notes"] = self.seen_notes
        self.trails: dict[str, PageTrail] = {}
        #: Notes asked for before the sources found them (unfetched ones).
        self.asked_first: set[str] = set()

    def source_names(self) -> list[str]:
        """The sources as the store names them: ``kind:value``."""
        return [f"{self.kind}:{value}" for value in self.sources]

    async def first_requests(self) -> AsyncIterator[Request]:
        async for request in self.before_pages():
            yield request
        if self.details:
            async for request in self.unfetched_requests(
                None, skip_fresh=not self.refresh, sources=self.source_names()
            ):
                self.asked_first.add(request.cb_kwargs["note_id"])
                yield request
        where = await self._where_sources_stand()
        for value in self.sources:
            standing = where.get(value, (1, None))
            if standing is not None:
                yield self.source_page(value, *standing)

    async def before_pages(self) -> AsyncIterator[Request]:
        """Requests a spider sends before its sources' first pages (profiles)."""
        return
        yield  # pragma: no cover

    async def _where_sources_stand(self) -> dict[str, Standing]:
        """Where an earlier run of this crawl left each source; sources it
        never read start at page 1."""
        last: dict[str, dict[str, Any]] = {}
        records = await self.freshness.source_pages() if self.freshness else []
        for record in records:
            value = record["source_value"]
            if record["source_kind"] == self.kind and record["page"] > last.get(
                value, {"page": 0}
            )["page"]:
                last[value] = record
        where: dict[str, Standing] = {}
        for value, record in last.items():
            more = record["next"] and record["page"] < self.pages
            where[value] = (record["page"] + 1, record.get("next_cursor")) if more else None
        if where:
            self.crawler.stats.inc_value(keys.DISCOVERY_RESUMED, len(where))
            logger.info("Resuming the %(kind)s sources where this crawl left them: %(where)s",
                        {"kind": self.kind, "where": where})
        return where

    def page_request(self, value: str, page: int, cursor: str | None, **kwargs: Any) -> Request:
        raise NotImplementedError

    def source_page(self, value: str, page: int, cursor: str | None) -> Request:
        return self.page_request(
            value, page, cursor, callback=self.parse_page, errback=self.api_failed,
            cb_kwargs={"source": value, "page": page, "cursor": cursor or ""},
        )

    def _trail(self, value: str, page: int, cursor: str | None) -> PageTrail:
        """The source's trail in this process; a page asked by another
        process (a shared crawl) or an earlier run starts one where it is."""
        trail = self.trails.get(value)
        if trail is None or trail.next_page != page:
            trail = PageTrail(self.pages, by_cursor=self.by_cursor, cursor=cursor)
            trail.pages_read = page - 1
            self.trails[value] = trail
        return trail

    async def parse_page(self, response: Response, source: str, page: int,
                         cursor: str) -> AsyncIterator[Any]:
        asked_with = cursor or None
        envelope = parse_envelope(response)
        stats = self.crawler.stats
        if envelope.code == NO_CONTENT:
            stats.inc_value(keys.DISCOVERY_NO_CONTENT.format(endpoint=self.endpoint))
            read = DiscoveryPage(readable=True)
        else:
            read = read_page(envelope.data)
        if not read.readable:
            yield self._unreadable(response, source, page, asked_with, envelope.request_id)
        elif envelope.code != NO_CONTENT:
            stats.inc_value(keys.DISCOVERY_READ.format(endpoint=self.endpoint))
        for reason, count in read.skipped.items():
            stats.inc_value(keys.DISCOVERY_SKIPPED.format(reason=reason), count)
        for appearance in self._appearances(read, response, source, page, asked_with):
            yield appearance
        new_notes = list(dict.fromkeys(
            note.note_id for note in read.notes if note.note_id not in self.seen_notes))
        for note_id in new_notes:
            self.seen_notes.add(note_id)
        stop = await self.stop_before_trail(read, new_notes)
        if self.details:
            unasked = [note_id for note_id in new_notes if note_id not in self.asked_first]
            for note_id in await self.notes_to_fetch(unasked, skip_fresh=not self.refresh):
                yield self.detail_request(note_id)
        trail = self._trail(source, page, asked_with)
        stop = trail.follow(read) if stop is None else stop
        if stop is None:
            yield self.source_page(source, trail.next_page, trail.cursor)
        else:
            self._stopped(source, page, stop)
        # After the next page is queued: a resumed crawl goes on from here.
        if self.freshness is not None:
            self.freshness.record_source_page(
                self.kind, source, page, asked_with, read.cursor, len(read.notes),
                len(new_notes), stop is None, stop,
            )

    async def stop_before_trail(self, page: DiscoveryPage, new_notes: list[str]) -> str | None:
        """A reason of the spider's own to stop the source after this page."""
        return None

    def _stopped(self, source: str, page: int, stop: str) -> None:
        self.crawler.stats.inc_value(keys.DISCOVERY_STOPPED.format(reason=stop))
        logger.info("The %(kind)s %(source)r stops at page %(page)d: %(why)s.",
                    {"kind": self.kind, "source": source, "page": page,
                     "why": stop.replace("_", " ")})

    def _appearances(self, read: DiscoveryPage, response: Response, source: str, page: int,
                     cursor: str | None) -> list[AppearanceItem]:
        """An appearance per note of the page, counted once for the page;
        one time and one endpoint for all of them, as the feed does."""
        if not read.notes:
            return []
        self.crawler.stats.inc_value(keys.DISCOVERY_NOTES.format(kind=self.kind), len(read.notes))
        endpoint, crawled_at = urlsplit(response.url).path, now_iso()
        return [self._appearance(note, source, page, cursor, endpoint, crawled_at) for note in read.notes]

    def _appearance(self, note: FoundNote, source: str, page: int, cursor: str | None,
                    endpoint: str, crawled_at: str) -> AppearanceItem:
        for field in note.rejected:
            self.crawler.stats.inc_value(keys.DISCOVERY_INVALID.format(field=field))
        author = (None if note.author_id is None
                  else {"user_id": note.author_id, "nickname": note.author_nickname})
        return AppearanceItem(
            note_id=note.note_id, source_kind=self.kind, source_value=source, page=page,
            rank=note.rank, position=note.position, crawled_at=crawled_at, title=note.title,
            type=note.type, likes=note.likes, likes_text=note.likes_text, author=author,
            endpoint=endpoint, cursor=cursor,
        )

    def _unreadable(self, response: Response, source: str, page: int, cursor: str | None,
                    request_id: str | None) -> RawAnswerItem:
        self.crawler.stats.inc_value(keys.DISCOVERY_UNREADABLE.format(endpoint=self.endpoint))
        logger.warning(
            "The %(endpoint)s answer for %(kind)s %(source)r page %(page)d holds nothing the "
            "crawl can read; its body is kept in the store's raw_answers and the journal.",
            {"endpoint": self.endpoint, "kind": self.kind, "source": source, "page": page},
        )
        return raw_answer(response, self.kind, source, page, cursor, request_id)

    def closed(self, reason: str) -> None:
        log_unreadable(self.crawler.stats.get_stats())


def log_unreadable(stats: dict[str, Any]) -> None:
    """Name each endpoint none of whose paid answers could be read, and where they are."""
    for endpoint in unreadable_endpoints(stats):
        logger.error(
            "The %(endpoint)s endpoint answered code 0 %(count)d times but none of its answers "
            "could be read: their raw bodies are in the store (raw_answers, XHS_STORE_URI) and "
            "the run's journal. Report them, or put another path first in its setting.",
            {"endpoint": endpoint,
             "count": stats.get(keys.DISCOVERY_UNREADABLE.format(endpoint=endpoint), 0)},
        )


def split_values(name: str, value: object, parse: Callable[[str, str], str]) -> list[str]:
    """The comma-separated values of ``-a name=...``, each parsed with
    *parse*, once each in order; a bad one refused in one line."""
    try:
        return list(dict.fromkeys(parse(part, name) for part in str(value or "").split(",")))
    except SourceValueError as exc:
        raise SpiderArgumentError(f"-a {exc}") from None


def parse_pages(pages: object) -> int | None:
    return None if pages is None else parse_int("pages", pages, minimum=1, maximum=MAX_PAGES)


def share_raw_answer(response: Response, link: str) -> RawAnswerItem:
    """A share link's paid answer that names nowhere the crawl can read, kept
    as it came (``source_kind`` share, ``source_value`` the link)."""
    return raw_answer(response, "share", link, 1, None, parse_envelope(response).request_id)
