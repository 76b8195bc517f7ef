"""``scrapy crawl user -a user=...``: creators' profiles and notes, newest first,
until the first note already stored (creator monitoring), then every note's detail."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from xhs_spider import stats as keys
from xhs_spider.api.client import USER, USER_NOTES
from xhs_spider.api.creators import creator_fields
from xhs_spider.api.envelope import parse_envelope
from xhs_spider.api.normalize import now_iso
from xhs_spider.api.note_ids import decode_ids_file, id_lines
from xhs_spider.api.share import target_of
from xhs_spider.api.sources import SourceValueError, parse_share_link, parse_user_id
from xhs_spider.config.declarations import DETAIL_TTL
from xhs_spider.items import CreatorItem
from xhs_spider.spiders.arguments import About, Comments, Refresh, SpiderArgumentError, parse_bool
from xhs_spider.spiders.base import DETAIL_PRIORITY, parse_comments_argument
from xhs_spider.spiders.discovery import (
    MAX_PAGES,
    DiscoverySpider,
    parse_pages,
    raw_answer,
    share_raw_answer,
    split_values,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scrapy import Request
    from scrapy.http import Response

    from xhs_spider.api.discovery import DiscoveryPage

logger = logging.getLogger(__name__)

#: Why a creator's list stops: a note on the page is already stored.
STOP_STORED_NOTE = "stored_note"


def parse_creator(value: str, name: str) -> str:
    """A user id or profile URL as the id, or a share link as given (resolved later)."""
    try:
        return parse_user_id(value, name)
    except SourceValueError:
        try:
            return parse_share_link(value, name)
        except SourceValueError:
            pass
        raise


class UserSpider(DiscoverySpider):
    """Reads creators' profiles and their notes, newest first, then fetches every
    note found; stops at the first note already stored unless full=true."""

    name = "user"
    kind = "user"
    endpoint = USER_NOTES
    by_cursor = True
    default_pages = MAX_PAGES
    queued_callbacks = DiscoverySpider.queued_callbacks | {"parse_profile", "parse_share"}

    def parse_arguments(
        self,
        *,
        user: Annotated[str | None, About(
            "a user id, profile URL or xhslink.com share link of a profile; several comma-separated"
        )] = None,
        users_file: Annotated[str | None, About(
            "a UTF-8 or UTF-16 text file with one user id, profile URL or share link per line"
        )] = None,
        full: Annotated[str | bool, About(
            "walk each creator's whole list, not only up to the first note already stored"
        )] = False,
        pages: Annotated[str | int | None, About(
            f"at most this many pages per creator, 1 to {MAX_PAGES}"
        )] = None,
        details: Annotated[str | bool, About(
            "fetch the detail of every note found; false reads the lists only"
        )] = True,
        refresh: Refresh = False,
        comments: Comments = 0,
    ) -> None:
        self.max_comments = parse_comments_argument(comments)
        if bool(user) == bool(users_file):
            raise SpiderArgumentError("Give exactly one of -a user=ID1,ID2 or -a users_file=PATH.")
        values = split_values("user", user, parse_creator) if user else self._read_file(
            users_file or "")
        self.share_links = [value for value in values if value.startswith("http")]
        self.sources = [value for value in values if not value.startswith("http")]
        self.full = parse_bool("full", full)
        self.pages_asked = parse_pages(pages)
        self.details = parse_bool("details", details)
        self.refresh = parse_bool("refresh", refresh)

    @staticmethod
    def _read_file(name: str) -> list[str]:
        """Read now, while the arguments are checked (no crawl runs yet)."""
        path = Path(name)
        try:
            text = decode_ids_file(path.read_bytes())
        except OSError as exc:
            raise SpiderArgumentError(
                f"-a users_file={name!r}: cannot read it ({exc.strerror})."
            ) from None
        except ValueError as exc:
            raise SpiderArgumentError(f"-a users_file={name!r} {exc}. Save it as UTF-8.") from None
        values: list[str] = []
        for number, line in enumerate(id_lines(text), start=1):
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                try:
                    values.append(parse_creator(line, "user"))
                except SourceValueError as exc:
                    raise SpiderArgumentError(
                        f"-a users_file={name!r} line {number}: {exc}") from None
        if not values:
            raise SpiderArgumentError(f"-a users_file={name!r} names no creator.")
        return list(dict.fromkeys(values))

    def page_request(self, value: str, page: int, cursor: str | None, **kwargs: Any) -> Request:
        return self.api.user_notes_request(value, cursor, **kwargs)

    async def before_pages(self) -> AsyncIterator[Request]:
        known = await self.known_share_links(self.share_links)
        for link in self.share_links:
            if link in known:
                user_id = self._creator_of(link, known[link])
                if user_id is not None and user_id not in self.sources:
                    self.sources.append(user_id)
            else:
                yield self.share_request(link, callback=self.parse_share)
        async for request in self._profile_requests(self.sources):
            yield request

    async def _profile_requests(self, user_ids: list[str]) -> AsyncIterator[Request]:
        """A profile request per creator not fetched within XHS_DETAIL_TTL."""
        times = await self.freshness.creator_fetch_times(user_ids) if self.freshness else {}
        ttl = DETAIL_TTL.get(self.crawler.settings)
        fresh_since = now_iso(ago=timedelta(seconds=ttl)) if ttl else None
        for user_id in user_ids:
            if fresh_since is not None and times.get(user_id, "") >= fresh_since:
                self.crawler.stats.inc_value(keys.CREATORS_FRESH)
                continue
            yield self.api.user_request(
                user_id, callback=self.parse_profile, errback=self.api_failed,
                cb_kwargs={"user_id": user_id}, priority=DETAIL_PRIORITY,
            )

    def _creator_of(self, link: str, url: str) -> str | None:
        target = target_of(url)
        if target is None or target[0] != "user":
            self.crawler.stats.inc_value(keys.SHARE_LINKS_UNUSABLE)
            logger.error("The share link %(link)s leads to %(url)s, not a creator's profile; "
                         "skipped.", {"link": link, "url": url})
            return None
        return target[1]

    async def parse_share(self, response: Response, share_url: str) -> AsyncIterator[Any]:
        url = self.share_target(response, share_url)
        if url is None:
            yield share_raw_answer(response, share_url)
        user_id = None if url is None else self._creator_of(share_url, url)
        if user_id is None or user_id in self.sources:
            return
        self.sources.append(user_id)
        async for request in self._profile_requests([user_id]):
            yield request
        yield self.source_page(user_id, 1, None)

    def parse_profile(self, response: Response, user_id: str) -> Any:
        envelope = parse_envelope(response)
        fields = creator_fields(envelope.data, fetched_at=now_iso(),
                                request_id=envelope.request_id)
        if fields is None:
            self.crawler.stats.inc_value(keys.DISCOVERY_UNREADABLE.format(endpoint=USER))
            logger.warning("The profile of %(user_id)s holds nothing the crawl can read; its "
                           "body is kept in the store's raw_answers.", {"user_id": user_id})
            return raw_answer(response, self.kind, user_id, 1, None, envelope.request_id)
        self.crawler.stats.inc_value(keys.DISCOVERY_READ.format(endpoint=USER))
        self.crawler.stats.inc_value(keys.CREATORS_FETCHED)
        return CreatorItem(fields)

    async def stop_before_trail(self, page: DiscoveryPage, new_notes: list[str]) -> str | None:
        """Creator monitoring: a note already stored means the rest are older."""
        if self.full or self.freshness is None or not page.notes:
            return None
        stored = await self.freshness.fetch_times([note.note_id for note in page.notes])
        return STOP_STORED_NOTE if stored else None
