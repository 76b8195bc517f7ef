"""Sends every API request to the endpoint path in use, and notices a retired one.

The vendor retires endpoints: its spec marks the note detail v1 deprecated,
and public reports saw v1 answer 301 ("collection failed") to every call
while its successor answered. ``JUSTONEAPI_DETAIL_PATH`` lists the paths
that answer the same payload, in order; every other endpoint has its list
too (``JUSTONEAPI_SEARCH_PATH``: search v4, then v2, whose query is mapped
from v4's as the request leaves, so a request queued before the move goes
to v2 with v2's parameters). When the path in use answers only
failures (codes 301, 404, 500, a body that is not JSON, HTTP 404 or 410) for
``JUSTONEAPI_ENDPOINT_FAILURES`` answers in a row and none succeeded for
:data:`QUIET_SECONDS`, the crawl moves to the next path, says so once, and
never moves back within the run. Those failures are all unbilled, so no note
is paid for twice; the requests are retried on the new path. When no path is
left, the crawl ends ``justoneapi_endpoint_failing``: at most that many
failures per path, plus the calls in flight, are spent finding out.

The URL is set as the request leaves, so a request from a JOBDIR queue built
for another ``JUSTONEAPI_BASE_URL`` (prod-global and prod-cn) goes to today's;
queued requests carry no token, so the new origin receives nothing meant for
the old one.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from xhs_spider import stats as keys
from xhs_spider.api.client import PATH_SETTINGS, JustOneApi, endpoint_of
from xhs_spider.api.codes import BILLED_CODES
from xhs_spider.api.envelope import InvalidBody, parse_envelope
from xhs_spider.config.declarations import ENDPOINT_FAILURES
from xhs_spider.outcome.extension import outcome_of
from xhs_spider.outcome.reasons import ENDPOINT_FAILING

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: A path that answered successfully this recently is not given up on.
QUIET_SECONDS = 30.0
#: Answers that say the path itself is gone, not that the API is busy.
RETIRED_CODES = frozenset({301, 404, 500})
RETIRED_HTTP_STATUSES = frozenset({404, 410})


class _PathHealth:
    """The paths of one endpoint, the one in use, and how it is answering."""

    def __init__(self, paths: list[str]):
        self.paths = paths
        self.index = 0
        self.failures = 0
        self.succeeded_at: float | None = None

    @property
    def current(self) -> str:
        return self.paths[self.index]

    def succeeded(self) -> None:
        self.failures, self.succeeded_at = 0, time.monotonic()

    def failed(self, threshold: int) -> bool:
        """Count a failure; whether the path in use now counts as retired."""
        self.failures += 1
        quiet = self.succeeded_at is None or time.monotonic() - self.succeeded_at >= QUIET_SECONDS
        return self.failures >= threshold and quiet

    def move_on(self) -> bool:
        """To the next path; ``False`` when there is none."""
        if self.index + 1 >= len(self.paths):
            return False
        self.index += 1
        self.failures, self.succeeded_at = 0, None
        return True


class EndpointMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.api = JustOneApi.from_crawler(crawler)
        self.stats = crawler.stats
        self.threshold = ENDPOINT_FAILURES.get(crawler.settings)
        self.health = {endpoint: _PathHealth(paths) for endpoint, paths in self.api.paths.items()}
        self.exhausted: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        endpoint = endpoint_of(request)
        if endpoint not in self.health:
            return
        url = self.api.moved_url(request, self.health[endpoint].current)
        if url is not None:
            self.stats.inc_value(keys.REQUESTS_REBASED)
            # In place, as the request leaves: a copy would go back through
            # the scheduler, and the components before this one hold this one.
            request._set_url(url)

    def process_response(self, request: Request, response: Response) -> Response:
        endpoint = endpoint_of(request)
        health = self.health.get(endpoint or "")
        if health is None or urlsplit(response.url).path != health.current:
            return response  # sent before a move: it says nothing of the path in use
        verdict = _verdict(response)
        if verdict is True:
            health.succeeded()
        elif verdict is False and health.failed(self.threshold) and endpoint not in self.exhausted:
            self._retired(endpoint or "", health)
        return response

    def _retired(self, endpoint: str, health: _PathHealth) -> None:
        retired = health.current
        if health.move_on():
            self.stats.inc_value(keys.ENDPOINT_SWITCHED.format(endpoint=endpoint))
            self.stats.set_value(keys.ENDPOINT_IN_USE.format(endpoint=endpoint), health.current)
            logger.warning(
                "The %(endpoint)s endpoint %(retired)s answered only failures (%(count)d in a "
                "row): moving to %(next)s for the rest of the crawl. Put the working path first "
                "in %(setting)s to skip it.",
                {"endpoint": endpoint, "retired": retired, "count": self.threshold,
                 "next": health.current, "setting": PATH_SETTINGS[endpoint].name},
            )
            return
        self.exhausted.add(endpoint)
        logger.error(
            "Every %(endpoint)s endpoint answers only failures (last: %(retired)s): stopping. "
            "Check %(setting)s against the vendor's documentation.",
            {"endpoint": endpoint, "retired": retired, "setting": PATH_SETTINGS[endpoint].name},
        )
        outcome_of(self.crawler).fail(ENDPOINT_FAILING)


def _verdict(response: Response) -> bool | None:
    """True: the path answered; False: it looks retired; None: neither."""
    if response.status in RETIRED_HTTP_STATUSES:
        return False
    try:
        code = parse_envelope(response).code
    except InvalidBody:
        return False
    if code in BILLED_CODES:
        return True
    return False if code in RETIRED_CODES else None
