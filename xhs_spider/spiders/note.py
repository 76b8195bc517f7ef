"""``scrapy crawl note``: the details of notes given by id, or of stale stored notes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from scrapy.exceptions import CloseSpider

from xhs_spider.api.note_ids import (
    IdList,
    decode_ids_file,
    extract_note_id,
    id_lines,
    parse_id_lines,
)
from xhs_spider.extensions.freshness import StoreDisabled
from xhs_spider.outcome.reasons import BAD_ARGUMENTS
from xhs_spider.spiders.arguments import About, SpiderArgumentError, parse_bool, parse_int
from xhs_spider.spiders.base import NoteDetailSpider
from xhs_spider.stats import IDS_FILE_BAD_LINES, IDS_FILE_IDS

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scrapy import Request

logger = logging.getLogger(__name__)


class NoteSpider(NoteDetailSpider):
    """Fetches the details of notes given by id, or of stale or unfetched stored
    notes: give exactly one of ids, ids_file, stale=true or unfetched=true."""

    name = "note"

    def parse_arguments(
        self,
        *,
        ids: Annotated[str | None, About("note ids or note URLs, comma-separated")] = None,
        ids_file: Annotated[str | None, About(
            "a UTF-8 or UTF-16 text file with one note id or URL per line"
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
    ) -> None:
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
        self.id_list = self._read_ids_file(ids_file) if ids_file else None
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

    @staticmethod
    def _parse_ids(ids: str | None) -> list[str]:
        found: list[str] = []
        for part in (ids or "").split(","):
            if part.strip():
                note_id = extract_note_id(part)
                if note_id is None:
                    raise SpiderArgumentError(f"-a ids: {part.strip()!r} holds no note id.")
                found.append(note_id)
        if ids and not found:
            raise SpiderArgumentError(f"-a ids={ids!r} holds no note id.")
        return list(dict.fromkeys(found))

    async def first_requests(self) -> AsyncIterator[Request]:
        if self.unfetched:
            async for request in self.unfetched_requests(None, skip_fresh=True):
                yield request
            return
        # Asked for by name: refreshed even when fresh.
        wanted = await self.notes_to_fetch(await self._note_ids(), skip_fresh=False)
        for note_id in wanted:
            yield self.detail_request(note_id)

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
