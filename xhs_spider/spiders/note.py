"""``scrapy crawl note``: the details of notes given by id, or of stale stored notes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from scrapy.exceptions import CloseSpider

from xhs_spider.api.note_ids import (
    IdList,
    decode_ids_file,
    extract_note_id,
    id_lines,
    parse_id_lines,
)
from xhs_spider.api.share import target_of
from xhs_spider.api.sources import SourceValueError, parse_share_link
from xhs_spider.extensions.freshness import StoreDisabled
from xhs_spider.outcome.reasons import BAD_ARGUMENTS
from xhs_spider.spiders.arguments import About, Comments, SpiderArgumentError, parse_bool, parse_int
from xhs_spider.spiders.base import NoteDetailSpider, parse_comments_argument
from xhs_spider.spiders.discovery import log_unreadable, share_raw_answer
from xhs_spider.stats import IDS_FILE_BAD_LINES, IDS_FILE_IDS, SHARE_LINKS_UNUSABLE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scrapy import Request
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class NoteSpider(NoteDetailSpider):
    """Fetches the details of notes given by id, or of stale or unfetched stored
    notes: give exactly one of ids, ids_file, stale=true or unfetched=true."""

    name = "note"
    queued_callbacks = NoteDetailSpider.queued_callbacks | {"parse_share"}

    def parse_arguments(
        self,
        *,
        ids: Annotated[str | None, About(
            "note ids, note URLs or xhslink.com share links, comma-separated"
        )] = None,
        ids_file: Annotated[str | None, About(
            "a UTF-8 or UTF-16 text file with one note id, URL or share link per line"
        )] = None,
        stale: Annotated[str | bool, About(
            "every stored note whose detail is older than XHS_DETAIL_TTL, oldest first"
        )] = False,
        unfetched: Annotated[str | bool, About(
            "every note seen in a feed but never fetched"
        )] = False,
        limit: Annotated[str | int | None, About(
            "with stale=true: only the N oldest notes"
        )] = None,
        comments: Comments = 0,
    ) -> None:
        self.max_comments = parse_comments_argument(comments)
        # Asked for by name (ids, ids_file): their comments are paged even when fresh.
        self.comments_named = bool(ids or ids_file)
        self.stale = parse_bool("stale", stale)
        self.unfetched = parse_bool("unfetched", unfetched)
        self.limit = None if limit is None else parse_int("limit", limit, minimum=1, maximum=10**9)
        if self.limit is not None and not self.stale:
            raise SpiderArgumentError("-a limit goes with -a stale=true.")
        given = [name for name, value in (("ids", ids), ("ids_file", ids_file)) if value]
        if len(given) + self.stale + self.unfetched != 1:
            raise SpiderArgumentError(
                "Give exactly one of -a ids=ID1,ID2, -a ids_file=PATH, -a stale=true "
                "or -a unfetched=true."
            )
        self.ids_file = Path(ids_file) if ids_file else None
        #: xhslink.com links, resolved to notes by the share-link endpoint.
        self.share_links: list[str] = []
        self.id_list = self._read_ids_file(ids_file) if ids_file else None
        if self.id_list is not None:
            self.share_links = _share_links(self.id_list)
        self.ids = self._parse_ids(ids)

    @staticmethod
    def _read_ids_file(name: str) -> IdList:
        """Read now, while the arguments are checked: ``scrapy crawl`` refuses a
        file it cannot read before the crawl starts. A list of ids is small;
        reading it blocks nothing yet, as no crawl is running."""
        path = Path(name)
        if not path.is_file():
            raise SpiderArgumentError(f"-a ids_file={name!r}: no such file.")
        try:
            text = decode_ids_file(path.read_bytes())
        except OSError as exc:
            raise SpiderArgumentError(
                f"-a ids_file={name!r}: cannot read it ({exc.strerror})."
            ) from None
        except ValueError as exc:
            raise SpiderArgumentError(
                f"-a ids_file={name!r} {exc}. Save it as UTF-8 "
                "(in Notepad: File > Save as, Encoding UTF-8)."
            ) from None
        return parse_id_lines(id_lines(text))

    def _parse_ids(self, ids: str | None) -> list[str]:
        found: list[str] = []
        for part in (ids or "").split(","):
            if part.strip():
                note_id = extract_note_id(part)
                if note_id is not None:
                    found.append(note_id)
                    continue
                try:
                    self.share_links.append(parse_share_link(part, "ids"))
                except SourceValueError:
                    raise SpiderArgumentError(
                        f"-a ids: {part.strip()!r} holds no note id, note URL or "
                        "http(s)://xhslink.com/ share link."
                    ) from None
        if ids and not found and not self.share_links:
            raise SpiderArgumentError(f"-a ids={ids!r} holds no note id.")
        self.share_links = list(dict.fromkeys(self.share_links))
        return list(dict.fromkeys(found))

    async def first_requests(self) -> AsyncIterator[Request]:
        if self.unfetched:
            async for request in self.unfetched_requests(None, skip_fresh=True):
                yield request
            return
        # Asked for by name: refreshed even when fresh.
        note_ids, share_requests = await self.named_notes()
        for request in share_requests:
            yield request
        wanted = await self.notes_to_fetch(list(dict.fromkeys(note_ids)), skip_fresh=False)
        for note_id in wanted:
            yield self.detail_request(note_id)

    async def named_notes(self) -> tuple[list[str], list[Request]]:
        """The notes named by ``ids`` or ``ids_file``, with those of share
        links resolved before, and a share request for each other link."""
        note_ids = list(await self._note_ids())
        known = await self.known_share_links(self.share_links)
        requests = [self.share_request(link, callback=self.parse_share)
                    for link in self.share_links if link not in known]
        for link, url in known.items():
            if (note_id := self._note_of(link, url)) is not None:
                note_ids.append(note_id)
        return note_ids, requests

    def _note_of(self, link: str, url: str) -> str | None:
        target = target_of(url)
        if target is None or target[0] != "note":
            self.crawler.stats.inc_value(SHARE_LINKS_UNUSABLE)
            logger.error("The share link %(link)s leads to %(url)s, not a note; skipped.",
                         {"link": link, "url": url})
            return None
        return target[1]

    async def parse_share(self, response: Response, share_url: str) -> AsyncIterator[Any]:
        url = self.share_target(response, share_url)
        if url is None:
            yield share_raw_answer(response, share_url)
        note_id = None if url is None else self._note_of(share_url, url)
        if note_id is not None:
            for wanted in await self.notes_to_fetch([note_id], skip_fresh=False):
                yield self.detail_request(wanted)

    def closed(self, reason: str) -> None:
        log_unreadable(self.crawler.stats.get_stats())

    async def _note_ids(self) -> list[str]:
        if self.id_list is not None:
            return self._report(self.id_list)
        if self.stale:
            return await self._stale_note_ids()
        return self.ids

    def _report(self, id_list: IdList) -> list[str]:
        for number, line in id_list.bad_lines:
            logger.warning(
                "%(path)s line %(number)d holds no note id, skipped: %(line)r",
                {"path": str(self.ids_file), "number": number, "line": line[:200]},
            )
        self.crawler.stats.set_value(IDS_FILE_BAD_LINES, len(id_list.bad_lines))
        self.crawler.stats.set_value(IDS_FILE_IDS, len(id_list.ids))
        return id_list.ids

    async def _stale_note_ids(self) -> list[str]:
        try:
            if self.freshness is None:
                raise StoreDisabled("-a stale=true needs the Freshness extension, which is disabled.")
            note_ids = await self.freshness.stale_note_ids(self.limit)
        except StoreDisabled as exc:
            logger.error("%(problem)s", {"problem": str(exc)})
            raise CloseSpider(BAD_ARGUMENTS) from exc
        logger.info("%(count)d stored notes are older than XHS_DETAIL_TTL.", {"count": len(note_ids)})
        return note_ids


def _share_links(id_list: IdList) -> list[str]:
    """The share links among the lines of an ids file that held no note id,
    taken out of its bad lines."""
    links, bad_lines = [], []
    for number, line in id_list.bad_lines:
        try:
            links.append(parse_share_link(line, "ids_file"))
        except SourceValueError:
            bad_lines.append((number, line))
    id_list.bad_lines = bad_lines
    return list(dict.fromkeys(links))
