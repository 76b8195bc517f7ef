"""Which notes need a paid detail call: the one owner of that question.

A note whose detail (or 201, or paid answer that gave no note, or 400 for
its id) the store holds from within ``XHS_DETAIL_TTL`` is fresh: asking again would pay twice
for what the user already has. A note another crawl holds a live lease on
(``XHS_CLAIM_TTL``) is that crawl's to fetch. So before the spiders ask for
a detail, this component checks the store and leases the notes it grants,
in one atomic step that several processes and machines can share; the
:class:`~xhs_spider.middlewares.claims.ClaimMiddleware` checks the requests
that come back from a JOBDIR queue the same way. It also records every paid
answer that gives no item (a 201, an invalid detail, a detail of another
note, a callback error), so the TTL applies to those too, and where each
channel's feed stands, so a resumed crawl carries on.

Without the store (``StorePipeline`` disabled) every note is fetched.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy import signals

from xhs_spider.api.client import DETAIL, endpoint_of
from xhs_spider.api.normalize import now_iso
from xhs_spider.config.declarations import CLAIM_TTL, COMMENTS_TTL, DETAIL_TTL
from xhs_spider.items import NoteItem
from xhs_spider.pipelines.store import StorePipeline
from xhs_spider.pipelines.validation import InvalidItem
from xhs_spider.run.recent import RecentSet
from xhs_spider.stats import (
    NOTES_CLAIMED_ELSEWHERE,
    NOTES_FAILED,
    NOTES_NEW,
    NOTES_REFRESHED,
    NOTES_SKIPPED_FRESH,
    NOTES_STALE,
)
from xhs_spider.store.base import Lease, StoreUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure
    from typing_extensions import Self

    from xhs_spider.store.base import NoteStore
    from xhs_spider.store.session import StoreSession

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class StoreDisabled(Exception):
    """The question needs the store, and this crawl runs without it
    (StorePipeline, or the Freshness extension, is disabled)."""


class Freshness:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.ttl = timedelta(seconds=DETAIL_TTL.get(crawler.settings))
        self.comments_ttl = timedelta(seconds=COMMENTS_TTL.get(crawler.settings))
        self.lease_time = timedelta(seconds=CLAIM_TTL.get(crawler.settings))
        self.started_at = now_iso()
        #: Notes this run holds a lease on, and those it has sent a request for.
        self.held: RecentSet[str] = RecentSet()
        self.sent: RecentSet[str] = RecentSet()
        crawler.signals.connect(self._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self._spider_error, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def _store(self) -> StorePipeline | None:
        try:
            pipeline = self.crawler.get_item_pipeline(StorePipeline)
        except RuntimeError:
            return None  # no engine: a component used outside a crawl
        return pipeline if pipeline is not None and pipeline.session is not None else None

    @property
    def _session(self) -> StoreSession | None:
        store = self._store
        return None if store is None else store.session

    # Which notes to pay for -----------------------------------------------------

    async def notes_to_fetch(self, note_ids: list[str], *, skip_fresh: bool) -> list[str]:
        """Those of *note_ids* to ask details for, leased to this run.

        With *skip_fresh*, notes fetched within XHS_DETAIL_TTL are left out;
        without, those fetched since this run started.
        """
        if not note_ids:
            return []
        times = await self.fetch_times(note_ids)
        since = now_iso(ago=self.ttl) if skip_fresh and self.ttl else self.started_at
        fresh = {n for n, at in times.items() if at >= since}
        wanted = [note_id for note_id in note_ids if note_id not in fresh]
        granted = await self._claim(wanted, since)
        self.stats.inc_value(NOTES_SKIPPED_FRESH, len(fresh))
        self.stats.inc_value(NOTES_CLAIMED_ELSEWHERE, len(wanted) - len(granted))
        self.stats.inc_value(NOTES_NEW, sum(n not in times for n in granted))
        self.stats.inc_value(NOTES_REFRESHED, sum(n in times for n in granted))
        return [note_id for note_id in wanted if note_id in granted]

    async def may_send(self, note_id: str) -> bool:
        """Whether a detail request about to be sent should go: once a run,
        and only under this run's lease (a request from a JOBDIR queue may
        predate a fetch or a lease of another crawl)."""
        if note_id in self.sent:
            return False
        if note_id not in self.held:
            since = now_iso(ago=self.ttl) if self.ttl else self.started_at
            if not await self._claim([note_id], since):
                return False
        self.sent.add(note_id)
        return True

    async def fetch_times(self, note_ids: list[str]) -> dict[str, str]:
        """When each of *note_ids* was last paid for (see :meth:`NoteStore.fetch_times`);
        nothing known without the store or while it is down."""
        session = self._session
        if session is None or session.writer is None:
            return {}
        writer = session.writer
        try:
            if writer.failing:
                await writer.flush()  # let the writes retry or spill first
            return await session.read(session.store.fetch_times, note_ids)
        except StoreUnavailable as exc:
            logger.warning(
                "The store cannot say which notes are fresh (%(error)s); fetching them.",
                {"error": str(exc)[:200]},
            )
            return {}

    async def _claim(self, note_ids: Collection[str], fresh_since: str) -> set[str]:
        granted = await self._lease(lambda store: store.claim, note_ids, fresh_since)
        self.held.update(granted)
        return granted

    async def _lease(
        self, method: Callable[[NoteStore], Callable[[list[str], Lease], set[str]]],
        note_ids: Collection[str], fresh_since: str,
    ) -> set[str]:
        """The store's lease *method* on *note_ids* for this run: all of them
        without the store or while it cannot lease, none once it is gone."""
        session = self._session
        if session is None or session.writer is None:
            return set(note_ids)
        if session.writer.spill_file is not None:
            return set()  # the store is gone and the crawl is closing: pay for nothing more
        now = now_iso()
        lease = Lease(crawl_id=session.crawl_id, run_id=session.run_id, now=now,
                      expires_at=now_iso(ago=-self.lease_time), fresh_since=fresh_since)
        try:
            return await session.read(method(session.store), list(note_ids), lease)
        except StoreUnavailable as exc:
            logger.warning("The store cannot lease notes (%(error)s); fetching them.",
                           {"error": str(exc)[:200]})
            return set(note_ids)

    # Comments -----------------------------------------------------------------------

    def _comments_stale_before(self) -> str:
        """Comments fetched before this are asked again (XHS_COMMENTS_TTL; with
        0, those fetched before this run started)."""
        return now_iso(ago=self.comments_ttl) if self.comments_ttl else self.started_at

    async def comment_targets(
        self, note_ids: Collection[str] | None, *, since: str | None = None,
        sources: Collection[str] | None = None, limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The notes whose comments to page (see :meth:`NoteStore.comment_targets`):
        of *note_ids*, or with None of the stored notes (last seen since
        *since*, under one of *sources*), those never fetched, fetched before
        XHS_COMMENTS_TTL or whose comment counter grew. Without the store
        (or while it is down) every one of *note_ids*; None needs the store."""
        session = self._session
        if note_ids is not None and session is None:
            return [_unknown_target(note_id) for note_id in dict.fromkeys(note_ids)][:limit]
        session = self._require_session("-a stored=true")
        wanted = None if note_ids is None else list(note_ids)
        try:
            return await session.read(partial(
                session.store.comment_targets, wanted, since=since,
                sources=None if sources is None else list(sources),
                stale_before=self._comments_stale_before(), limit=limit,
            ))
        except StoreUnavailable as exc:
            if wanted is None:
                raise
            logger.warning("The store cannot say which notes' comments are fresh (%(error)s); "
                           "fetching them.", {"error": str(exc)[:200]})
            return [_unknown_target(note_id) for note_id in dict.fromkeys(wanted)][:limit]

    async def stored_comment_ids(self, note_id: str, comment_ids: Collection[str]) -> set[str]:
        """Those of *comment_ids* already stored as comments of *note_id*
        (none known without the store or while it is down)."""
        session = self._session
        if session is None or not comment_ids:
            return set()
        try:
            return await session.read(session.store.stored_comment_ids, note_id, list(comment_ids))
        except StoreUnavailable as exc:
            logger.warning("The store cannot say which comments it holds (%(error)s).",
                           {"error": str(exc)[:200]})
            return set()

    async def claim_comments(self, note_ids: Collection[str], *, named: bool = False) -> set[str]:
        """Those of *note_ids* whose comments this run may page, leased to it:
        under no live comment lease of another crawl, and still needing their
        comments (another crawl may have just paged them; XHS_COMMENTS_TTL).

        *named*: asked for by name (``-a ids``), paged even when fresh, as
        ``note`` refreshes named notes' details: only those another crawl
        paged since this run began are left out (and those under its lease).
        """
        if not note_ids:
            return set()
        fresh_since = self.started_at if named else self._comments_stale_before()
        return await self._lease(lambda store: store.claim_comments, note_ids, fresh_since)

    async def has_notes(self) -> bool:
        """Whether the store holds any note's detail (``-a stored=true`` has
        nothing to page without one); needs the store."""
        session = self._require_session("-a stored=true")
        found: bool = await session.read(session.store.has_notes)
        return found

    # Questions for the spiders ----------------------------------------------------

    async def stale_note_ids(self, limit: int | None) -> list[str]:
        """Stored notes whose detail is older than XHS_DETAIL_TTL, oldest first."""
        session = self._require_session("-a stale=true")
        note_ids = await session.read(session.store.stale_note_ids, now_iso(ago=self.ttl), limit)
        self.stats.set_value(NOTES_STALE, len(note_ids))
        return note_ids

    async def unfetched_note_ids(self, channels: Collection[str] | None) -> list[str]:
        """Notes seen in a feed (of *channels*, or any) whose detail was never paid for."""
        session = self._session
        if session is None:
            return []
        wanted = None if channels is None else list(channels)
        return await session.read(session.store.unfetched_note_ids, wanted, None)

    async def unfetched_source_note_ids(self, sources: Collection[str] | None) -> list[str]:
        """Notes seen under *sources* (``"kind:value"``, channels as
        ``"channel:<oid>"``; None: any) whose detail was never paid for."""
        session = self._session
        if session is None:
            return []
        wanted = None if sources is None else list(sources)
        return await session.read(session.store.unfetched_source_note_ids, wanted, None)

    async def feed_pages(self) -> list[dict[str, Any]]:
        """The feed pages this crawl read in earlier runs (a resumed JOBDIR crawl)."""
        session = self._session
        if session is None or session.crawl_id == session.run_id:
            return []
        return await session.read(session.store.feed_pages, session.crawl_id)

    async def source_pages(self) -> list[dict[str, Any]]:
        """The pages of keywords', creators' and topics' notes this crawl read
        in earlier runs (a resumed JOBDIR crawl), by kind, value and page."""
        session = self._session
        if session is None or session.crawl_id == session.run_id:
            return []
        return await session.read(session.store.source_pages, session.crawl_id)

    async def creator_fetch_times(self, user_ids: Collection[str]) -> dict[str, str]:
        """When the stored profile of each of *user_ids* was fetched, for those stored."""
        return await self._lookup(lambda store: store.creator_fetch_times, user_ids)

    async def share_links(self, urls: Collection[str]) -> dict[str, str]:
        """What each of *urls* resolved to, for those resolved before (paid for once)."""
        return await self._lookup(lambda store: store.share_links, urls)

    async def _lookup(
        self, method: Callable[[NoteStore], Callable[[list[str]], dict[str, str]]], keys: Collection[str],
    ) -> dict[str, str]:
        """The store's *method* of *keys*; nothing known without the store or while it is down."""
        session = self._session
        if session is None or not keys:
            return {}
        try:
            return await session.read(method(session.store), list(keys))
        except StoreUnavailable as exc:
            logger.warning("The store cannot say what it holds (%(error)s); asking the API.",
                           {"error": str(exc)[:200]})
            return {}

    def _require_session(self, what: str) -> StoreSession:
        session = self._session
        if session is None:
            raise StoreDisabled(f"{what} needs the store (StorePipeline is disabled).")
        return session

    async def read_only(self, function: Callable[[NoteStore | None], _T]) -> _T:
        """*function* of the store, on the store's thread (of None without the
        store): a question that leases nothing, such as a dry run's."""
        session = self._session
        if session is None:
            return function(None)
        return await session.read(function, session.store)

    # What was paid for ------------------------------------------------------------

    def record_unavailable(self, note_id: str) -> None:
        """The detail of *note_id* was answered 201: paid for, nothing to store
        but the fact, which keeps it from being paid for again within the TTL."""
        self._record("unavailable", {"note_id": note_id, "at": now_iso()})

    def record_failed(self, note_id: str, reason: str) -> None:
        """A paid detail of *note_id* gave no note (*reason*: invalid,
        mismatched_id, callback_error): kept, so it is not paid for again."""
        self.stats.inc_value(NOTES_FAILED.format(reason=reason))
        self._record_failed(note_id, reason)

    def record_rejected(self, note_id: str, reason: str) -> None:
        """The detail call of *note_id* was answered about that note (*reason*:
        code_400, the API refuses its id), not paid for: status ``failed``,
        fresh within the TTL like a 201, so it is not asked again before."""
        self._record_failed(note_id, reason)

    def _record_failed(self, note_id: str, reason: str) -> None:
        self._record("failed", {"note_id": note_id, "at": now_iso(), "reason": reason})

    def record_feed_page(self, channel: str, page: int, cards: int, new_notes: int,
                         next_page: bool) -> None:
        session = self._session
        if session is not None:
            self._record("page", {
                "crawl_id": session.crawl_id, "channel": channel, "page": page, "cards": cards,
                "new_notes": new_notes, "next": next_page, "at": now_iso(),
            })

    def record_source_page(
        self, kind: str, value: str, page: int, cursor: str | None, next_cursor: str | None,
        notes: int, new_notes: int, next: bool, stop: str | None,  # noqa: A002 - the record's field
        *, extra: Mapping[str, Any] | None = None,
    ) -> None:
        """A page of a keyword's, creator's or topic's notes (or of a note's
        comments, or a comment's replies) was read (asked with *cursor*), and
        whether its source goes on after it (*next*; if not, *stop* says
        why): a resumed crawl carries on from these. *extra*: more fields
        of the record (a reply paging's ``inline`` and ``sort``)."""
        session = self._session
        if session is not None:
            self._record("source_page", {
                **(extra or {}),
                "crawl_id": session.crawl_id, "source_kind": kind, "source_value": value, "page": page,
                "cursor": cursor, "next_cursor": next_cursor, "notes": notes, "new_notes": new_notes,
                "next": next, "stop": stop, "at": now_iso(),
            })

    def record_share_link(self, url: str, resolved_url: str) -> None:
        """*url* (a share link) resolved to *resolved_url*: paid for, kept so
        that it is not paid for again."""
        self._record("share_link", {"url": url, "resolved_url": resolved_url, "at": now_iso()})

    def record_comments_done(self, note_id: str, counter: int | None, comments: int, complete: bool) -> None:
        """The paging of *note_id*'s comments ended, having stored *comments*
        comments and replies; *counter*: the note's comment counter (of its
        latest detail) when it began. *complete*: it ran to its end (the caps
        included); a paging cut short leaves the note to be paged again."""
        self._record("comments_done", {
            "note_id": note_id, "at": now_iso(), "counter": counter, "comments": comments,
            "complete": complete,
        })

    def _record(self, kind: str, data: dict[str, Any]) -> None:
        store = self._store
        if store is not None:
            store.record_soon(kind, data)

    def _item_dropped(self, item: Any, exception: BaseException) -> None:
        if isinstance(item, NoteItem) and isinstance(exception, InvalidItem):
            self.record_failed(item["note_id"], "invalid")

    def _spider_error(self, failure: Failure, response: Response) -> None:
        request = response.request
        note_id = None if request is None else request.cb_kwargs.get("note_id")
        if request is not None and endpoint_of(request) == DETAIL and note_id:
            self.record_failed(note_id, "callback_error")


def _unknown_target(note_id: str) -> dict[str, Any]:
    """A note to page whose comments the store cannot tell about."""
    return {"note_id": note_id, "counter": None, "comments_fetched_at": None, "comments_counter": None}
