"""Judges every Just One API answer by the ``code`` in its body.

The API may answer a failure with HTTP 200 and a success with nothing but
``code: 0``; it may also answer 401/429/5xx with the same JSON envelope, or a
proxy may answer with an HTML page. This middleware reads the body whatever
the HTTP status and decides: pass, retry with backoff, retry a 302 with no
wait of its own (RateLimitMiddleware, which saw it first, has slowed the
pace of every call), give up on the request, or stop the whole crawl. A
detail call the API answers 400 for its note id is that note's outcome, not
a give-up: it is recorded in the store (status ``failed``, reason
``code_400``) and not asked again within ``XHS_DETAIL_TTL``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NoReturn

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from xhs_spider import stats as keys
from xhs_spider.api import codes
from xhs_spider.api.client import DETAIL, RATE_LIMIT_META, endpoint_of
from xhs_spider.api.envelope import POSSIBLY_BILLED_ERRORS, InvalidBody, is_billed, parse_envelope
from xhs_spider.api.masking import mask_echo
from xhs_spider.api.note_ids import extract_note_id
from xhs_spider.config.declarations import (
    JUSTONEAPI_RETRY_TIMES,
    RATE_LIMIT_RETRY_TIMES,
    RETRY_BACKOFF_BASE,
    RETRY_BACKOFF_MAX,
    TOKEN,
)
from xhs_spider.extensions.freshness import Freshness
from xhs_spider.outcome.extension import close_crawl, kept_for_resume

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.utils.asyncio import CallLaterResult
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class GaveUp(IgnoreRequest):
    """A request given up on after the API's answers (*reason*: ``code_400``,
    ``invalid_body``, ``rate_limited``…): no paid answer came."""

    def __init__(self, detail: str, reason: str):
        super().__init__(detail)
        self.reason = reason


class BusinessCodeMiddleware:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.retry_times = JUSTONEAPI_RETRY_TIMES.get(settings)
        self.token = TOKEN.get(settings)
        self.backoff_base = RETRY_BACKOFF_BASE.get(settings)
        self.backoff_max = RETRY_BACKOFF_MAX.get(settings)
        self.rate_limit_retry_times = RATE_LIMIT_RETRY_TIMES.get(settings)
        #: Set once the API says the account can make no more calls.
        self.stop_reason: str | None = None
        self._sleeps: dict[Deferred[None], CallLaterResult] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> Request | None:
        if endpoint_of(request) is None or self.stop_reason is None:
            return None
        return kept_for_resume(request)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if endpoint_of(request) is not None and isinstance(exception, POSSIBLY_BILLED_ERRORS):
            # Scrapy's RetryMiddleware retries these; the API may bill both.
            self.stats.inc_value(keys.POSSIBLY_BILLED)

    async def process_response(
        self, request: Request, response: Response
    ) -> Request | Response:
        endpoint = endpoint_of(request)
        if endpoint is None:
            return response
        try:
            envelope = parse_envelope(response)
        except InvalidBody as exc:
            self.stats.inc_value(keys.INVALID_BODY)
            return await self._retry(
                request, "invalid_body", f"HTTP {response.status}, {exc}"
            )
        code = envelope.code
        self.stats.inc_value(keys.CODE.format(code=code))
        action = codes.action_for(code, detail=endpoint == DETAIL)
        if is_billed(response):
            self.stats.inc_value(keys.BILLED)
            self.stats.inc_value(keys.BILLED_BY.format(endpoint=endpoint))
        if action is codes.Action.PASS or action is codes.Action.NO_CONTENT:
            return response
        message = mask_echo(str(envelope.message), self.token) if envelope.message else None
        detail = f"code {code}: {message or codes.MESSAGES.get(code, '?')}"
        if action is codes.Action.RATE_LIMITED:
            return self._rate_limited(request, detail)
        if action is codes.Action.STOP:
            self._stop(codes.FINISH_REASONS[code], detail)
            return kept_for_resume(request)  # unanswered, and not billed
        if action is codes.Action.GIVE_UP:
            self._give_up(request, f"code_{code}", detail)
        if action is codes.Action.REJECTED_NOTE:
            self._note_rejected(request, f"code_{code}", detail)
        return await self._retry(request, f"code_{code}", detail)

    async def _retry(self, request: Request, reason: str, detail: str) -> Request:
        assert self.crawler.spider is not None
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=self.retry_times,
            stats_base_key=keys.RETRY_BASE_KEY,
            logger=logger,
            give_up_log_level="DEBUG",  # _give_up logs it, with the reason
        )
        if retry is None:
            self._give_up(request, reason, detail)
        # Waiting here holds a concurrency slot on purpose: while the API
        # fails the crawl slows down, and a crawl paused meanwhile (JOBDIR)
        # keeps the retry in flight instead of dropping it.
        await self._sleep(self._retry_delay(retry.meta["retry_times"]))
        if self.stop_reason is not None:
            return kept_for_resume(retry)
        return retry

    def _retry_delay(self, attempt: int) -> float:
        """``backoff_base`` seconds before the first retry (attempt 1), doubling, capped."""
        return min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))

    def _rate_limited(self, request: Request, detail: str) -> Request:
        # RateLimitMiddleware slows the calls down; this only retries.
        self.stats.inc_value(keys.RATE_LIMITED)
        times = request.meta.get(RATE_LIMIT_META, 0) + 1
        if times > self.rate_limit_retry_times:
            self.stats.inc_value(keys.RETRY_MAX_REACHED)
            self._give_up(request, "rate_limited", detail)
        retry = request.copy()
        retry.meta[RATE_LIMIT_META] = times
        retry.dont_filter = True
        self.stats.inc_value(keys.RETRY_COUNT)
        self.stats.inc_value(keys.RETRY_REASON.format(reason="rate_limited"))
        return retry

    def _give_up(self, request: Request, reason: str, detail: str) -> NoReturn:
        self.stats.inc_value(keys.GIVE_UP)
        self.stats.inc_value(keys.GIVE_UP_BY.format(reason=reason))
        logger.error(
            "Gave up on %(request)s (%(endpoint)s): %(detail)s",
            {"request": request, "endpoint": endpoint_of(request), "detail": detail},
        )
        raise GaveUp(detail, reason)

    def _note_rejected(self, request: Request, reason: str, detail: str) -> NoReturn:
        """The API refuses this detail's note id: the note's outcome, kept in
        the store so that it is not asked again within XHS_DETAIL_TTL."""
        note_id = request.cb_kwargs.get("note_id") or extract_note_id(request.url)
        self.stats.inc_value(keys.NOTES_REJECTED)
        freshness = self.crawler.get_extension(Freshness)
        if note_id and freshness is not None:
            freshness.record_rejected(note_id, reason)
        logger.warning(
            "Note %(note_id)s refused by the API (%(request)s, %(detail)s): stored as failed "
            "(%(reason)s), not asked again within XHS_DETAIL_TTL; to ask again: "
            "scrapy crawl note -a ids=%(note_id)s",
            {"note_id": note_id, "request": request, "detail": detail, "reason": reason},
        )
        raise IgnoreRequest(detail)

    def _stop(self, reason: str, detail: str) -> None:
        if self.stop_reason is not None:
            return
        self.stop_reason = reason
        logger.error(
            "Stopping the crawl (%(reason)s): %(detail)s.",
            {"detail": detail, "reason": reason},
        )
        self._wake_sleepers()
        close_crawl(self.crawler, reason)

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        woken: Deferred[None] = Deferred()
        self._sleeps[woken] = call_later(seconds, woken.callback, None)
        try:
            await maybe_deferred_to_future(woken)
        finally:
            self._sleeps.pop(woken, None)

    def _wake_sleepers(self) -> None:
        """A stopping crawl must not wait out retry backoffs."""
        for woken, timer in list(self._sleeps.items()):
            timer.cancel()
            if not woken.called:
                woken.callback(None)
