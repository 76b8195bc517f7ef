"""Adds the API token to a request only for the moment it is downloaded.

Requests are built, scheduled, deduplicated, persisted in JOBDIR, logged and
retried without the token. This middleware sits innermost (next to the
download handler): it puts the token into the URL as the request leaves for
the network and takes it out again before any other component sees the
response, the exception or the request once more.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.settings import SETTINGS_PRIORITIES

from xhs_spider.api.client import endpoint_of, is_loopback, origin
from xhs_spider.api.masking import mask_token
from xhs_spider.config.declarations import BASE_URL, TOKEN
from xhs_spider.outcome.reasons import MISSING_TOKEN
from xhs_spider.stats import REQUESTS, REQUESTS_REFUSED, REQUESTS_TO

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)

MISSING_TOKEN_MESSAGE = (
    "No Just One API token: set the JUSTONEAPI_TOKEN environment variable "
    "(export JUSTONEAPI_TOKEN=...) or the JUSTONEAPI_TOKEN setting."
)

#: -s JUSTONEAPI_TOKEN=… (and Scrapyd's setting=, which passes it so).
COMMAND_LINE_TOKEN_MESSAGE = (
    "JUSTONEAPI_TOKEN was given on the command line (-s, or Scrapyd's setting=): it is "
    "masked in this log, but visible to every user of this machine in ps and /proc, in the "
    "shell's history, and in Scrapyd's queue and listjobs.json. Export JUSTONEAPI_TOKEN in "
    "the environment instead (Scrapyd's: the daemon's environment)."
)


def with_url(response: Response, url: str) -> Response:
    """A copy of *response* at *url*, its encoding left as undeclared as it was.

    ``Response.replace()`` would read ``TextResponse.encoding``, and for an
    answer without a charset that guesses one from the body through w3lib's
    deprecated ``html_to_unicode()`` arguments. The download handler declares
    no encoding, so the copy finds the same one, from the same headers and body,
    when (if ever) something asks for it.
    """
    kwargs = {name: getattr(response, name) for name in response.attributes
              if name != "encoding"}
    kwargs["url"] = url
    return type(response)(**kwargs)


class TokenMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.token = TOKEN.get(settings)
        if self.token and settings.getpriority(TOKEN.name) == SETTINGS_PRIORITIES["cmdline"]:
            logger.warning(COMMAND_LINE_TOKEN_MESSAGE)
        base = urlsplit(BASE_URL.get(settings))
        # Like HttpAuthMiddleware: credentials go to one known origin only
        # (scheme included: never downgraded to plain HTTP on the same host).
        self.origin = origin(BASE_URL.get(settings))
        if base.scheme == "http" and not is_loopback(base.hostname or ""):
            logger.warning(
                "JUSTONEAPI_BASE_URL %(url)s is plain HTTP: the API token will "
                "cross the network unencrypted.",
                {"url": f"{base.scheme}://{base.netloc}"},
            )
        self._original_urls: WeakKeyDictionary[Request, str] = WeakKeyDictionary()
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _spider_opened(self) -> None:
        if self.token is None:
            logger.error(MISSING_TOKEN_MESSAGE)
            raise CloseSpider(MISSING_TOKEN)

    def process_request(self, request: Request) -> None:
        if endpoint_of(request) is None or request in self._original_urls:
            return
        if origin(request.url) != self.origin:
            self.stats.inc_value(REQUESTS_REFUSED)
            raise IgnoreRequest(
                f"API request to an origin other than JUSTONEAPI_BASE_URL: {request}"
            )
        if self.token is None:
            raise IgnoreRequest(MISSING_TOKEN_MESSAGE)
        self._original_urls[request] = request.url
        # Counted here, innermost: only what really leaves for the API.
        self.stats.inc_value(REQUESTS)
        self.stats.inc_value(REQUESTS_TO.format(endpoint=endpoint_of(request)))
        separator = "&" if "?" in request.url else "?"
        # In place, with Request's private setter, on purpose: the public
        # request.replace(url=...) makes a copy, and a Request returned from
        # process_request is not downloaded but handed to engine.crawl(): the
        # request_scheduled signal, the dupefilter (a new fingerprint), the
        # scheduler's queue (JOBDIR's files, or Redis in distributed mode),
        # all with the token in the URL. The public way round, a download
        # handler wrapping Scrapy's HTTP ones, would take DOWNLOAD_HANDLERS
        # over for one query parameter.
        request._set_url(
            request.url + separator + urlencode({"token": self.token})
        )

    def process_response(self, request: Request, response: Response) -> Response:
        original = self._restore(request)
        if original is None:
            return response
        return with_url(response, original)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if self._restore(request) is None:
            return
        # Download errors quote the URL they failed on (timeouts, DNS, TLS),
        # in their args or, for Twisted's, in attributes such as osError.
        exception.args = tuple(self._mask(arg) for arg in exception.args)
        for name, value in vars(exception).items():
            setattr(exception, name, self._mask(value))

    def _mask(self, value: object) -> object:
        return mask_token(value, self.token) if isinstance(value, str) else value

    def _restore(self, request: Request) -> str | None:
        original = self._original_urls.pop(request, None)
        if original is not None:
            request._set_url(original)
        return original
