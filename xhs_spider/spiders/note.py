"""``scrapy crawl note``: the details of notes given by id, or of stale stored notes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import run_in_thread

from xhs_spider.api.note_ids import IdList, extract_note_id, parse_id_lines
from xhs_spider.extensions.freshness import NoStore
from xhs_spider.run.finish import BAD_ARGUMENTS
from xhs_spider.spiders.arguments import SpiderArgumentError, parse_bool, parse_int
from xhs_spider.spiders.base import NoteDetailSpider
from xhs_spider.stats import IDS_FILE_BAD_LINES, IDS_FILE_IDS

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scrapy import Request

logger = logging.getLogger(__name__)


class NoteSpider(NoteDetailSpider):
    name = "note"

    def parse_arguments(
        self,
        *,
        ids: str | None = None,
        ids_file: str | None = None,
        stale: str | bool = False,
        unfetched: str | bool = False,
        limit: str | int | None = None,
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
        if self.ids_file is not None and not self.ids_file.is_file():
            raise SpiderArgumentError(f"-a ids_file={ids_file!r}: no such file.")
        self.ids: list[str] = []
        for part in (ids or "").split(","):
            if part.strip():
                note_id = extract_note_id(part)
                if note_id is None:
                    raise SpiderArgumentError(f"-a ids: {part.strip()!r} holds no note id.")
                self.ids.append(note_id)
        self.ids = list(dict.fromkeys(self.ids))

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
        if self.ids_file is not None:
            return self._report(await run_in_thread(self._read_ids_file))
        if self.stale:
            return await self._stale_note_ids()
        return self.ids

    def _read_ids_file(self) -> IdList:
        assert self.ids_file is not None
        with self.ids_file.open(encoding="utf-8-sig") as lines:
            return parse_id_lines(lines)

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
                raise NoStore("-a stale=true needs the Freshness extension, which is disabled.")
            note_ids = await self.freshness.stale_note_ids(self.limit)
        except NoStore as exc:
            logger.error("%(problem)s", {"problem": str(exc)})
            raise CloseSpider(BAD_ARGUMENTS) from exc
        logger.info("%(count)d stored notes are older than XHS_DETAIL_TTL.", {"count": len(note_ids)})
        return note_ids
