"""What the project's spiders share: arguments, the API client, note details."""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

from scrapy import Spider
from scrapy.exceptions import CloseSpider

from xhs_spider import codes
from xhs_spider.api import JustOneApi, parse_envelope
from xhs_spider.arguments import SpiderArgumentError
from xhs_spider.items import NoteItem
from xhs_spider.normalize import note_fields, now_iso
from xhs_spider.pipelines.store import StorePipeline
from xhs_spider.signals import note_unavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy import Request
    from scrapy.http import Response

logger = logging.getLogger(__name__)

BAD_ARGUMENTS_REASON = "bad_arguments"
DETAIL_PRIORITY = 10  # notes already found come before more feed pages


class NoteDetailSpider(Spider):
    """Base of the spiders: checks ``-a`` arguments, asks for note details.

    Subclasses declare their arguments as the keyword-only parameters of
    :meth:`parse_arguments` and yield their first requests from
    :meth:`first_requests`. Arguments starting with ``_`` (Scrapyd's
    ``_job``) pass through to Scrapy untouched.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**{k: v for k, v in kwargs.items() if k.startswith("_")})
        self.run_arguments = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        self.argument_error: str | None = None
        try:
            self._check_names(self.run_arguments)
            self.parse_arguments(**self.run_arguments)
        except SpiderArgumentError as exc:
            self.argument_error = str(exc)

    def parse_arguments(self, **kwargs: Any) -> None:
        raise NotImplementedError

    def _check_names(self, arguments: dict[str, Any]) -> None:
        accepted = list(inspect.signature(self.parse_arguments).parameters)
        for name, value in arguments.items():
            if name not in accepted:
                raise SpiderArgumentError(
                    f"Unknown argument -a {name}={value!r}: the {self.name} spider "
                    f"takes {', '.join(accepted)}."
                )

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> str | None:
        """The problem with these spider arguments, for a check before crawling."""
        return cls(**kwargs).argument_error

    async def start(self) -> AsyncIterator[Any]:
        if self.argument_error is not None:
            logger.error("%(problem)s", {"problem": self.argument_error})
            raise CloseSpider(BAD_ARGUMENTS_REASON)
        # Settings are final only once the crawl starts (add-ons apply late).
        self.api = JustOneApi.from_crawler(self.crawler)
        self.store = self.crawler.get_item_pipeline(StorePipeline)
        async for request in self.first_requests():
            yield request

    async def first_requests(self) -> AsyncIterator[Request]:
        raise NotImplementedError
        yield  # pragma: no cover

    async def notes_to_fetch(self, note_ids: list[str], *, skip_fresh: bool) -> list[str]:
        """*note_ids* to ask details for, counting new, refreshed and fresh ones.

        With *skip_fresh*, notes the store fetched within XHS_DETAIL_TTL are
        left out: they are not paid for twice.
        """
        if self.store is None or not note_ids:
            return note_ids
        fresh, known = await self.store.fresh_and_known(note_ids)
        if not skip_fresh:
            fresh = set()
        wanted = [note_id for note_id in note_ids if note_id not in fresh]
        stats = self.crawler.stats
        stats.inc_value("justoneapi/notes/skipped_fresh", len(note_ids) - len(wanted))
        stats.inc_value("justoneapi/notes/new", sum(n not in known for n in wanted))
        stats.inc_value("justoneapi/notes/refreshed", sum(n in known for n in wanted))
        return wanted

    def detail_request(self, note_id: str) -> Request:
        self.crawler.stats.inc_value("justoneapi/notes/detail_requested")
        return self.api.detail_request(
            note_id,
            callback=self.parse_detail,
            cb_kwargs={"note_id": note_id},
            priority=DETAIL_PRIORITY,
        )

    def parse_detail(self, response: Response, note_id: str) -> Iterator[NoteItem]:
        envelope = parse_envelope(response)
        if envelope.code == codes.NO_CONTENT:
            self.crawler.stats.inc_value("justoneapi/notes/unavailable")
            logger.info("Note %(note_id)s is unavailable (201).", {"note_id": note_id})
            self.crawler.signals.send_catch_log(
                signal=note_unavailable, note_id=note_id, at=now_iso()
            )
            return
        data = envelope.data
        if not isinstance(data, dict) or data.get("noteId") != note_id:
            self.crawler.stats.inc_value("justoneapi/notes/malformed_detail")
            logger.error(
                "Detail of note %(note_id)s came back without that note; skipped.",
                {"note_id": note_id},
            )
            return
        yield NoteItem(
            note_fields(data, crawled_at=now_iso(), request_id=envelope.request_id)
        )
