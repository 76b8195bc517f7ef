"""``scrapy crawl comments``: the comments and replies of notes given by id,
or of notes in the store (paging: :mod:`xhs_spider.spiders.comment_paging`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from scrapy.exceptions import CloseSpider

from xhs_spider.api.channels import parse_channels
from xhs_spider.dataset.query import parse_since, parse_source
from xhs_spider.extensions.freshness import StoreDisabled
from xhs_spider.outcome.reasons import BAD_ARGUMENTS
from xhs_spider.spiders.arguments import About, SpiderArgumentError, parse_bool
from xhs_spider.spiders.comment_paging import (
    DEFAULT_MAX_COMMENTS,
    DEFAULT_MAX_REPLIES,
    SORTS,
    parse_caps,
)
from xhs_spider.spiders.note import NoteSpider, _share_links

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scrapy import Request
    from scrapy.http import Response

    from xhs_spider.store.base import NoteStore

logger = logging.getLogger(__name__)


#: ``-a stored=true`` and a store without a fetched note: nothing to page.
NO_STORED_NOTE = ("-a stored=true: the store (XHS_STORE_URI) holds no fetched note; fetch notes "
                  "first (scrapy crawl feed, search, note) or give -a ids=.")


class CommentsSpider(NoteSpider):
    """Pages the comments (and replies) of notes given by id, or of stored
    notes: give exactly one of ids, ids_file or stored=true. No detail is
    fetched: the note's comment counter comes from its stored detail."""

    name = "comments"

    def parse_arguments(  # type: ignore[override]
        self,
        *,
        ids: Annotated[str | None, About(
            "note ids, note URLs or xhslink.com share links, comma-separated; asked by name, "
            "their comments are paged even within XHS_COMMENTS_TTL"
        )] = None,
        ids_file: Annotated[str | None, About(
            "a UTF-8 or UTF-16 text file with one note id, URL or share link per line"
        )] = None,
        stored: Annotated[str | bool, About(
            "the stored notes whose comments were never fetched, fetched before "
            "XHS_COMMENTS_TTL, or whose comment counter grew"
        )] = False,
        since: Annotated[str | None, About(
            "with stored=true: only notes seen since then: 7d, 24h, 30m ago, or an ISO date"
        )] = None,
        channel: Annotated[str | None, About(
            "with stored=true: only notes seen in these feed channels, comma-separated"
        )] = None,
        source: Annotated[str | None, About(
            "with stored=true: only notes found under this source, KIND:VALUE (keyword:咖啡)"
        )] = None,
        max_comments: Annotated[str | int, About(
            "top-level comments per note, at most; their replies are not counted in it"
        )] = DEFAULT_MAX_COMMENTS,
        max_replies: Annotated[str | int, About(
            "replies per comment, at most (inline ones included); 0: none"
        )] = DEFAULT_MAX_REPLIES,
        sort: Annotated[str, About(
            f"order of the comments: {', '.join(SORTS)}; latest stops at the first comment "
            "already stored"
        )] = "latest",
    ) -> None:
        self.max_comments, self.max_replies, self.comment_sort = parse_caps(
            max_comments, max_replies, sort)
        self.stored = parse_bool("stored", stored)
        given = [name for name, value in (("ids", ids), ("ids_file", ids_file)) if value]
        if len(given) + self.stored != 1:
            raise SpiderArgumentError(
                "Give exactly one of -a ids=ID1,ID2, -a ids_file=PATH or -a stored=true.")
        picks = [name for name, value in (("since", since), ("channel", channel),
                                          ("source", source)) if value]
        if picks and not self.stored:
            raise SpiderArgumentError(f"-a {picks[0]} goes with -a stored=true.")
        self.since = _since(since)
        self.sources = _sources(channel, source)
        self.comments_named = not self.stored
        self.stale = self.unfetched = False
        self.limit = None
        self.ids_file = None
        self.share_links = []
        self.id_list = None
        if ids_file:
            self.ids_file = Path(ids_file)
            self.id_list = self._read_ids_file(ids_file)
            self.share_links = _share_links(self.id_list)
        self.ids = self._parse_ids(ids)

    @classmethod
    def store_problem(cls, store: NoteStore | None, **kwargs: Any) -> str | None:
        """Before the crawl (``scrapy crawl`` checks it, exit status 2, no
        call): ``-a stored=true`` needs a store holding a fetched note;
        *store* is open, or ``None`` when StorePipeline is disabled."""
        try:
            stored = parse_bool("stored", kwargs.get("stored", False))
        except SpiderArgumentError:
            return None  # check_arguments says so first
        if not stored:
            return None
        if store is None:
            return "-a stored=true needs the store (StorePipeline is disabled)."
        return None if store.has_notes() else NO_STORED_NOTE

    async def first_requests(self) -> AsyncIterator[Request]:
        if self.stored:
            note_ids = await self._stored_targets()
        else:
            note_ids, share_requests = await self.named_notes()
            for request in share_requests:
                yield request
        for request in await self.comment_requests(note_ids, named=self.comments_named):
            yield request

    async def parse_share(self, response: Response, share_url: str) -> AsyncIterator[Request]:
        url = self.share_target(response, share_url)
        note_id = None if url is None else self._note_of(share_url, url)
        if note_id is not None:
            for request in await self.comment_requests([note_id], named=True):
                yield request

    async def _stored_targets(self) -> list[str]:
        problem = None
        try:
            if self.freshness is None:
                problem = "-a stored=true needs the Freshness extension, which is disabled."
            elif not await self.freshness.has_notes():
                problem = NO_STORED_NOTE
        except StoreDisabled as exc:
            problem = str(exc)
        if problem is not None:
            logger.error("%(problem)s", {"problem": problem})
            raise CloseSpider(BAD_ARGUMENTS)
        targets = await self.freshness.comment_targets(None, since=self.since, sources=self.sources)
        logger.info("%(count)d stored notes need their comments fetched.", {"count": len(targets)})
        return [target["note_id"] for target in targets]


def _since(since: str | None) -> str | None:
    if since is None:
        return None
    try:
        return parse_since(since)
    except ValueError as exc:
        raise SpiderArgumentError(str(exc).replace("--since", "-a since=")) from None


def _sources(channel: str | None, source: str | None) -> list[str] | None:
    if channel is None and source is None:
        return None
    names = [f"channel:{oid}" for oid in parse_channels(channel)] if channel else []
    if source:
        try:
            names += [f"{kind}:{value}" for kind, value in parse_source(source)]
        except ValueError as exc:
            raise SpiderArgumentError(str(exc).replace("--source", "-a source=")) from None
    return names

