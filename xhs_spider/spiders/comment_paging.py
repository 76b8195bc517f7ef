"""The one home of comment paging: the ``comments`` spider and ``-a
comments=N`` on ``feed``, ``search``, ``user``, ``topic`` and ``note`` page a
note's comments (and the replies under them) through this mixin.

A note's comments are paged with a :class:`~xhs_spider.api.paging.PageTrail`
(through :func:`~xhs_spider.api.comments.trail_page`): never the same cursor
twice in a run; a stop on ``has_more`` false, an empty page, a page that
repeats the one before, a cursor that repeats or does not advance, or a cap.
The caps are exact: ``max_comments`` top-level comments per note (their
replies are not counted in it) and ``max_replies`` replies per comment, the
inline ones included (``0``: none). A comment's reply pages are asked only
when its inline replies are not all it has (``replies_complete``); inline
replies and reply pages are merged by comment id, each stored once.

Incremental: only the notes :meth:`Freshness.comment_targets` names (never
paged, paged before ``XHS_COMMENTS_TTL``, or whose detail's comment counter
grew since) are paged, each under a comment lease (``claim_comments``: two
overlapping runs never page one note at once); in ``latest`` order a note
paged to its end before stops at the first comment already stored. Notes
named by the user are paged (and leased) even when fresh. When a note's
pages and the reply pagings under them have ended, ``comments_done`` is
recorded: complete on every normal end (the list's end, a cursor that
cannot go on, a cap, a stored comment), not when a page was unreadable or
given up on (the next run pages the note again in full, as after a crawl
stopped before). Each page of a note's comments is recorded as a
``source_pages`` record of kind ``comments``, and each page of a comment's
replies as one of kind ``replies``, after the next page is queued; a
comment whose replies need paging is recorded (``replies`` page 0) before
the page of comments that revealed it: a resumed crawl (``JOBDIR``,
``XHS_CRAWL_ID``) carries each note and each reply paging on from where it
stood (:mod:`~xhs_spider.spiders.comment_standing`), and records a note
done only once its reply pagings have ended, in whichever run; a hard kill
costs again only the pages in flight.

The vendor's advice is ``latest``, and ``normal`` when ``latest`` fails:
here that is the first page in ``latest`` order given up on with an
unbilled business code (400 "Invalid Parameters", 404, or 301/500/503 after
the retries); that note is then paged in ``normal`` order (stats
``xhs/comments/sort_fallback``). A later page's failure does not switch:
its cursor belongs to the ``latest`` order.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from xhs_spider import stats as keys
from xhs_spider.api.client import COMMENT_SORTS, COMMENTS, SUB_COMMENTS, endpoint_of
from xhs_spider.api.codes import NO_CONTENT
from xhs_spider.api.comments import (
    CommentPage,
    FoundComment,
    read_comment_page,
    read_reply_page,
    trail_page,
)
from xhs_spider.api.envelope import parse_envelope
from xhs_spider.api.normalize import now_iso
from xhs_spider.api.paging import STOP_NO_MORE, STOP_UNREADABLE, PageTrail
from xhs_spider.distributed.worker import shared_worker
from xhs_spider.items import CommentItem, RawAnswerItem
from xhs_spider.middlewares.business_codes import GaveUp
from xhs_spider.run.recent import RecentSet
from xhs_spider.spiders.arguments import SpiderArgumentError, parse_int
from xhs_spider.spiders.comment_standing import (
    PAGES_KIND,
    REPLIES_KIND,
    NoteEndings,
    NotesStanding,
    RepliesStanding,
    Standing,
    replies_value,
    where_pagings_stand,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy import Request
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

DEFAULT_MAX_COMMENTS = 200
DEFAULT_MAX_REPLIES = 20
MAX_CAP = 100_000
SORTS = tuple(COMMENT_SORTS)
#: After details (10), before more feed or source pages (0).
COMMENT_PRIORITY = 5
#: Why a note's (or a comment's) paging stops, beyond PageTrail's reasons.
STOP_MAX_COMMENTS = "max_comments"
STOP_MAX_REPLIES = "max_replies"
STOP_STORED = "stored_comment"
STOP_NO_CONTENT = "no_content"
STOP_FAILED = "failed"
#: Stops that cut a paging off (the next run pages the note again in full);
#: every other stop is a normal end: the list's end (``has_more`` false, an
#: empty page, a 201), a cursor that cannot go on (stuck, repeated, missing:
#: asking again would pay for the same pages), a cap, a stored comment.
CUT_OFF_STOPS = frozenset({STOP_UNREADABLE, STOP_FAILED})
#: ``counter`` in a request's cb_kwargs when the note's comment counter is not known.
UNKNOWN = -1


def parse_caps(max_comments: object, max_replies: object, sort: object) -> tuple[int, int, str]:
    """``-a max_comments``, ``-a max_replies`` and ``-a sort``, checked."""
    comments = parse_int("max_comments", max_comments, minimum=1, maximum=MAX_CAP)
    replies = parse_int("max_replies", max_replies, minimum=0, maximum=MAX_CAP)
    order = str(sort).strip().lower()
    if order not in SORTS:
        raise SpiderArgumentError(f"-a sort={sort!r}: expected one of {', '.join(SORTS)}.")
    return comments, replies, order


class CommentPaging:
    """Pages notes' comments; mixed into :class:`~xhs_spider.spiders.base.NoteDetailSpider`.

    A spider sets :attr:`max_comments` (0: no comments), :attr:`max_replies`
    and :attr:`comment_sort` while parsing its arguments.
    """

    max_comments: int = 0
    max_replies: int = DEFAULT_MAX_REPLIES
    comment_sort: str = "latest"
    #: The callbacks comment requests name (``queued_callbacks``).
    comment_callbacks = frozenset({"parse_comments", "parse_replies", "comments_failed"})

    # Provided by the spider.
    crawler: Any
    api: Any
    freshness: Any

    def prepare_comments(self) -> None:
        self.comment_trails: dict[str, PageTrail] = {}
        #: Comments and replies taken in this run (by id): each stored once.
        self.comments_seen: RecentSet[str] = RecentSet()
        #: Notes whose paging this run started (or resumed).
        self.comments_started: set[str] = set()
        self._standing: tuple[NotesStanding, RepliesStanding] | None = None
        #: Comments whose reply paging this run started, resumed, or found
        #: ended by an earlier run of the crawl (``<note id>/<comment id>``).
        self.replies_started: set[str] = set()
        self.note_endings = NoteEndings(
            self.freshness, wait_for_replies=shared_worker(self.crawler) is None)

    # Which notes, and their first requests -----------------------------------------

    async def comment_requests(self, note_ids: list[str], *, named: bool = False,
                               counters: dict[str, int | None] | None = None) -> list[Request]:
        """The first (or resumed) comment page of each of *note_ids* that needs
        one, leased to this run. *named*: asked for by name, paged even when
        fresh; *counters*: the comment counters of details just fetched."""
        wanted = [n for n in dict.fromkeys(note_ids) if n not in self.comments_started]
        if not wanted or not self.max_comments:
            return []
        targets = await self._comment_targets(wanted)
        chosen = wanted if named else [n for n in wanted if n in targets]
        self.crawler.stats.inc_value(keys.COMMENTS_NOTES_FRESH, len(wanted) - len(chosen))
        granted = await self._comment_claim(chosen, named=named)
        requests = []
        for note_id in chosen:
            if note_id not in granted:
                continue
            target = targets.get(note_id)
            counter = (counters or {}).get(note_id)
            if counter is None and target is not None:
                counter = target.get("counter")
            # Paged before (to its end, or its cap): latest order stops at what is stored.
            known = target is None or target.get("comments_fetched_at") is not None
            requests += await self._first_comment_page(note_id, counter, known)
        return requests

    async def resumed_comment_requests(self) -> list[Request]:
        """The notes an earlier run of this crawl was paging, carried on."""
        notes, replies = await self._where_pagings_stand()
        going = [note_id for note_id, where in notes.items() if where.stop is None]
        going += [note_id for note_id, pagings in replies.items() if note_id not in going
                  and any(where.stop is None for where in pagings.values())]
        if not going:
            return []
        self.crawler.stats.inc_value(keys.COMMENTS_RESUMED, len(going))
        return await self.comment_requests(going, named=True)

    async def _first_comment_page(self, note_id: str, counter: int | None,
                                  known: bool) -> list[Request]:
        """The note's first page, or where an earlier run of this crawl left
        it and the reply pagings under it."""
        self.comments_started.add(note_id)
        self.crawler.stats.inc_value(keys.COMMENTS_NOTES)
        notes, replies = await self._where_pagings_stand()
        requests = self._resumed_replies(note_id, replies.get(note_id, {}))
        where = notes.get(note_id) or Standing()
        counter = UNKNOWN if counter is None else counter
        if where.stop is not None:
            # An earlier run of this crawl paged it to its end: done once
            # the reply pagings it left have ended.
            self._note_done(note_id, counter, where.taken, where.stop)
            return requests
        return [self.comment_page_request(note_id, where.page, where.cursor,
                                          sort=self.comment_sort, taken=where.taken,
                                          counter=counter, known=known), *requests]

    def _resumed_replies(self, note_id: str, pagings: dict[str, Standing]) -> list[Request]:
        """The note's reply pagings an earlier run of this crawl left going,
        carried on where they stood; those it ended are not started again.
        (A shared crawl's queue keeps its reply pages itself, in Redis.)"""
        requests = []
        for comment_id, where in pagings.items():
            self.replies_started.add(replies_value(note_id, comment_id))
            if where.stop is None and self.note_endings.wait_for_replies:
                self.note_endings.replies_started(note_id)
                requests.append(self.reply_page_request(
                    note_id, comment_id, where.page, where.cursor,
                    sort=where.sort or self.comment_sort, taken=where.taken, inline=where.inline))
        return requests

    async def _comment_targets(self, note_ids: list[str]) -> dict[str, dict[str, Any]]:
        if self.freshness is None:
            return {note_id: {} for note_id in note_ids}
        found = await self.freshness.comment_targets(note_ids)
        return {target["note_id"]: target for target in found}

    async def _comment_claim(self, note_ids: list[str], *, named: bool) -> set[str]:
        if self.freshness is None or not note_ids:
            return set(note_ids)
        granted: set[str] = await self.freshness.claim_comments(note_ids, named=named)
        self.crawler.stats.inc_value(keys.COMMENTS_CLAIMED_ELSEWHERE, len(note_ids) - len(granted))
        return granted

    async def _where_pagings_stand(self) -> tuple[NotesStanding, RepliesStanding]:
        """Where an earlier run of this crawl left each note's comment paging
        and each comment's reply paging (read once a run)."""
        if self._standing is None:
            records = await self.freshness.source_pages() if self.freshness is not None else []
            self._standing = where_pagings_stand(records)
        return self._standing

    def comment_page_request(self, note_id: str, page: int, cursor: str | None, *, sort: str,
                             taken: int, counter: int, known: bool) -> Request:
        return self.api.comments_request(
            note_id, sort, cursor, callback=self.parse_comments, errback=self.comments_failed,
            priority=COMMENT_PRIORITY,
            cb_kwargs={"note_id": note_id, "page": page, "cursor": cursor or "", "sort": sort,
                       "taken": taken, "counter": counter, "known": known},
        )

    def reply_page_request(self, note_id: str, comment_id: str, page: int, cursor: str | None,
                           *, sort: str, taken: int, inline: str) -> Request:
        return self.api.sub_comments_request(
            note_id, comment_id, cursor, callback=self.parse_replies,
            errback=self.comments_failed, priority=COMMENT_PRIORITY,
            cb_kwargs={"note_id": note_id, "comment_id": comment_id, "page": page,
                       "cursor": cursor or "", "sort": sort, "taken": taken, "inline": inline},
        )

    # Answers ------------------------------------------------------------------------

    def _comment_read(self, response: Response, endpoint: str, note_id: str,
              parent_id: str | None) -> tuple[CommentPage | None, str | None]:
        """The page read, or ``None`` and why the paging stops (201)."""
        envelope = parse_envelope(response)
        stats = self.crawler.stats
        stats.inc_value(keys.COMMENTS_PAGES.format(endpoint=endpoint))
        if envelope.code == NO_CONTENT:
            stats.inc_value(keys.DISCOVERY_NO_CONTENT.format(endpoint=endpoint))
            return None, STOP_NO_CONTENT
        read = (read_comment_page(envelope.data, note_id) if parent_id is None
                else read_reply_page(envelope.data, note_id, parent_id))
        if read.readable:
            stats.inc_value(keys.DISCOVERY_READ.format(endpoint=endpoint))
        else:
            stats.inc_value(keys.DISCOVERY_UNREADABLE.format(endpoint=endpoint))
        for reason, count in read.skipped.items():
            stats.inc_value(keys.COMMENTS_SKIPPED.format(reason=reason), count)
        return read, envelope.request_id

    async def parse_comments(self, response: Response, note_id: str, page: int, cursor: str,
                             sort: str, taken: int, counter: int, known: bool) -> AsyncIterator[Any]:
        read, said = self._comment_read(response, COMMENTS, note_id, None)
        if read is None:
            self._note_done(note_id, counter, taken, said or STOP_NO_CONTENT)
            return
        if not read.readable:
            yield self._comment_raw(response, note_id, page, cursor or None, said)
        stored = await self._comment_stored(note_id, read)
        fresh, stop = self._top_level(read, stored if known and sort == "latest" else set(), taken)
        for comment in fresh:
            for item in self._with_replies(comment, stored, sort, response):
                yield item
        taken += len(fresh)
        trail = self._comment_trail(note_id, page, cursor or None)
        stop = trail.follow(trail_page(read)) if stop is None else stop
        if stop is None:
            yield self.comment_page_request(note_id, trail.next_page, trail.cursor, sort=sort,
                                            taken=taken, counter=counter, known=known)
        else:
            self._note_done(note_id, counter, taken, stop)
        # After the next page is queued: a resumed crawl goes on from here.
        self._record_page(PAGES_KIND, note_id, page, cursor, read.cursor, fresh, stored, stop)

    def _top_level(self, read: CommentPage, stop_at: set[str],
                   taken: int) -> tuple[list[FoundComment], str | None]:
        """The page's comments to take, and why the paging stops before the trail says."""
        fresh: list[FoundComment] = []
        stop = None
        for comment in read.comments:
            if comment.comment_id in stop_at:
                stop = STOP_STORED
                break
            if comment.comment_id in self.comments_seen:
                self.crawler.stats.inc_value(keys.COMMENTS_DUPLICATES)
                continue
            fresh.append(comment)
        room = self.max_comments - taken
        if len(fresh) >= room:
            ended = stop is None and read.has_more is False and len(fresh) == room
            fresh, stop = fresh[:room], (stop or (STOP_NO_MORE if ended else STOP_MAX_COMMENTS))
        return fresh, stop

    def _with_replies(self, comment: FoundComment, stored: set[str], sort: str,
                      response: Response) -> Iterator[Any]:
        """A top-level comment's item, its inline replies' (up to
        ``max_replies``), and the request of its reply pages if it has more
        (and no run of this crawl has paged them): recorded first (page 0 of
        its ``replies``), so a resumed crawl pages them even if the page of
        comments that revealed it is not recorded before a kill."""
        yield self._comment_item(comment, stored, sort, response)
        inline = [reply for reply in comment.replies if reply.comment_id not in self.comments_seen]
        inline = inline[:self.max_replies]
        for reply in inline:
            yield self._comment_item(reply, stored, sort, response)
        assert comment.note_id is not None
        key = replies_value(comment.note_id, comment.comment_id)
        if (self.max_replies > len(inline) and not comment.replies_complete
                and key not in self.replies_started):
            self.replies_started.add(key)
            self.note_endings.replies_started(comment.note_id)
            shown = [reply.comment_id for reply in comment.replies]
            if self.freshness is not None:
                self.freshness.record_source_page(
                    REPLIES_KIND, key, 0, None, comment.reply_cursor, len(inline),
                    sum(reply.comment_id not in stored for reply in inline), True, None,
                    extra={"inline": shown, "sort": sort})
            yield self.reply_page_request(comment.note_id, comment.comment_id, 1,
                                          comment.reply_cursor, sort=sort, taken=len(inline),
                                          inline=",".join(shown))

    async def parse_replies(self, response: Response, note_id: str, comment_id: str, page: int,
                            cursor: str, sort: str, taken: int, inline: str) -> AsyncIterator[Any]:
        read, said = self._comment_read(response, SUB_COMMENTS, note_id, comment_id)
        key = replies_value(note_id, comment_id)
        if read is None:
            self._replies_ended(note_id, said or STOP_NO_CONTENT)
            self._record_page(REPLIES_KIND, key, page, cursor, None, [], set(), said or STOP_NO_CONTENT)
            return
        if not read.readable:
            yield self._comment_raw(response, note_id, page, cursor or None, said)
        shown = set(inline.split(",")) if inline else set()
        fresh = [reply for reply in read.comments
                 if reply.comment_id not in shown and reply.comment_id not in self.comments_seen]
        self.crawler.stats.inc_value(keys.COMMENTS_DUPLICATES, len(read.comments) - len(fresh))
        room = self.max_replies - taken
        stop = None
        if len(fresh) >= room:
            ended = read.has_more is False and len(fresh) == room
            fresh, stop = fresh[:room], (STOP_NO_MORE if ended else STOP_MAX_REPLIES)
        stored = await self._comment_stored(note_id, read)
        for reply in fresh:
            yield self._comment_item(reply, stored, sort, response)
        trail = self._comment_trail(key, page, cursor or None)
        stop = trail.follow(trail_page(read)) if stop is None else stop
        if stop is None:
            yield self.reply_page_request(note_id, comment_id, trail.next_page, trail.cursor,
                                          sort=sort, taken=taken + len(fresh), inline=inline)
        else:
            self._replies_ended(note_id, stop)
        # After the next page is queued: a resumed crawl goes on from here.
        self._record_page(REPLIES_KIND, key, page, cursor, read.cursor, fresh, stored, stop)

    def comments_failed(self, failure: Failure) -> Request | None:
        """A comment or reply page given up on: the note's first ``latest``
        page failing is asked again in ``normal`` order; any other ends that
        paging (not recorded as done: the next run asks again)."""
        request = getattr(failure, "request", None)
        kwargs = {} if request is None else request.cb_kwargs
        if (request is not None and endpoint_of(request) == COMMENTS and kwargs.get("page") == 1
                and kwargs.get("sort") == "latest" and failure.check(GaveUp)):
            self.crawler.stats.inc_value(keys.COMMENTS_SORT_FALLBACK)
            self.api_failed(failure)
            logger.warning("The comments of note %(note_id)s in latest order failed; asking them "
                           "in normal order.", {"note_id": kwargs["note_id"]})
            return self.comment_page_request(
                kwargs["note_id"], 1, None, sort="normal", taken=kwargs["taken"],
                counter=kwargs["counter"], known=kwargs["known"])
        self.api_failed(failure)
        if request is None:
            self._comment_stopped(COMMENTS, STOP_FAILED)
        elif endpoint_of(request) == SUB_COMMENTS:
            self._replies_ended(kwargs["note_id"], STOP_FAILED)
        else:
            self._note_done(kwargs["note_id"], kwargs["counter"], kwargs["taken"], STOP_FAILED)
        return None

    # Bookkeeping -------------------------------------------------------------------

    def api_failed(self, failure: Failure) -> None:
        raise NotImplementedError  # NoteDetailSpider's

    async def _comment_stored(self, note_id: str, read: CommentPage) -> set[str]:
        ids = [comment.comment_id for comment in read.every_comment()]
        if self.freshness is None or not ids:
            return set()
        stored: set[str] = await self.freshness.stored_comment_ids(note_id, ids)
        return stored

    def _record_page(self, kind: str, value: str, page: int, cursor: str,
                     next_cursor: str | None, fresh: list[FoundComment], stored: set[str],
                     stop: str | None) -> None:
        """A page of comments (*kind* ``comments``) or replies (``replies``)
        read, *fresh* taken from it: where a resumed crawl goes on."""
        if self.freshness is not None:
            self.freshness.record_source_page(
                kind, value, page, cursor or None, next_cursor, len(fresh),
                sum(c.comment_id not in stored for c in fresh), stop is None, stop)

    def _comment_trail(self, key: str, page: int, cursor: str | None) -> PageTrail:
        """The paging's trail in this process; a page asked by another process
        (a shared crawl) or an earlier run starts one where it is."""
        trail = self.comment_trails.get(key)
        if trail is None or trail.next_page != page:
            trail = PageTrail(MAX_CAP, by_cursor=True, cursor=cursor)
            trail.pages_read = page - 1
            self.comment_trails[key] = trail
        return trail

    def _comment_item(self, comment: FoundComment, stored: set[str], sort: str,
              response: Response) -> CommentItem:
        stats = self.crawler.stats
        self.comments_seen.add(comment.comment_id)
        stats.inc_value(keys.COMMENTS_UPDATED if comment.comment_id in stored else keys.COMMENTS_NEW)
        for field in comment.rejected:
            stats.inc_value(keys.COMMENTS_INVALID.format(field=field))
        author = (None if comment.author_id is None
                  else {"user_id": comment.author_id, "nickname": comment.author_nickname})
        return CommentItem(
            comment_id=comment.comment_id, note_id=comment.note_id, parent_id=comment.parent_id,
            level=comment.level, author=author, content=comment.content, likes=comment.likes,
            likes_text=comment.likes_text, created_at=comment.created_at,
            ip_location=comment.ip_location, reply_count=comment.reply_count,
            fetched_at=now_iso(), endpoint=urlsplit(response.url).path, sort=sort,
        )

    def _comment_raw(self, response: Response, note_id: str, page: int, cursor: str | None,
             request_id: str | None) -> RawAnswerItem:
        logger.warning(
            "The comment answer for note %(note_id)s page %(page)d holds nothing the crawl can "
            "read; its body is kept in the store's raw_answers and the journal.",
            {"note_id": note_id, "page": page},
        )
        return raw_answer(response, "note", note_id, page, cursor, request_id)

    def _note_done(self, note_id: str, counter: int, taken: int, stop: str) -> None:
        """The note's own pages ended (*stop*): ``comments_done`` once its
        reply pagings have too."""
        self._comment_stopped(COMMENTS, stop)
        self.note_endings.note_ended(note_id, None if counter == UNKNOWN else counter, taken,
                                     stop not in CUT_OFF_STOPS)

    def _replies_ended(self, note_id: str, stop: str) -> None:
        """A comment's reply paging ended (*stop*)."""
        self._comment_stopped(SUB_COMMENTS, stop)
        self.note_endings.replies_ended(note_id, stop not in CUT_OFF_STOPS)

    def _comment_stopped(self, endpoint: str, stop: str) -> None:
        self.crawler.stats.inc_value(keys.COMMENTS_STOPPED.format(endpoint=endpoint, reason=stop))


def raw_answer(response: Response, kind: str, value: str, page: int, cursor: str | None,
               request_id: str | None) -> RawAnswerItem:
    """A paid answer kept as it came, for a look."""
    return RawAnswerItem(
        endpoint=urlsplit(response.url).path, source_kind=kind, source_value=value, page=page,
        cursor=cursor, request_id=request_id, received_at=now_iso(), reason="unreadable",
        body=response.body.decode("utf-8", "replace"),
    )
