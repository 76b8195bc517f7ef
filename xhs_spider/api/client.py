"""Requests to the Just One API, built from the ``JUSTONEAPI_*`` settings."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from scrapy import Request

from xhs_spider.config.declarations import ACCEPT_CACHE, BASE_URL, DETAIL_PATHS, FEED_PATH

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

#: Request.meta key naming the endpoint; only requests carrying it are API calls.
ENDPOINT_META = "justoneapi_endpoint"
#: Request.meta key: how many times BusinessCodeMiddleware retried it after a 302.
RATE_LIMIT_META = "justoneapi_rate_limited_times"
#: Request.meta key: the run that let this request (and its retries) go (ClaimMiddleware).
SENT_BY_META = "xhs_sent_by"
FEED = "feed"
DETAIL = "detail"


DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """Whether *host* is this machine: what it is sent never crosses the network."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of *url*, as a browser compares them: host names
    are case-insensitive, and a default port is the same as none."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


class JustOneApi:
    """Builds API requests from the ``JUSTONEAPI_*`` settings.

    The requests carry no token: TokenMiddleware adds it at download time.
    """

    def __init__(
        self, base_url: str, feed_path: str, detail_paths: list[str], accept_cache: bool
    ):
        self.base_url = base_url.rstrip("/")
        #: Each endpoint's paths, in order of preference (see EndpointMiddleware).
        self.paths = {FEED: [feed_path], DETAIL: list(detail_paths)}
        self.accept_cache = accept_cache

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JustOneApi:
        settings = crawler.settings
        return cls(
            base_url=BASE_URL.get(settings),
            feed_path=FEED_PATH.get(settings),
            detail_paths=DETAIL_PATHS.get(settings),
            accept_cache=ACCEPT_CACHE.get(settings),
        )

    def feed_request(self, oid: str, page: int, **kwargs: Any) -> Request:
        query = urlencode({"oid": oid, "page": page})
        return self._request(FEED, f"{self.url(FEED)}?{query}", **kwargs)

    def detail_request(self, note_id: str, **kwargs: Any) -> Request:
        params = {"noteId": note_id}
        if self.accept_cache:
            params["acceptCache"] = "true"
        return self._request(DETAIL, f"{self.url(DETAIL)}?{urlencode(params)}", **kwargs)

    def url(self, endpoint: str, path: str | None = None) -> str:
        """The URL of *endpoint* at *path* (by default its first), no query."""
        return self.base_url + (path or self.paths[endpoint][0])

    def moved_url(self, request: Request, path: str) -> str | None:
        """*request*'s URL at today's base URL and *path*, if it was built for
        others (a JOBDIR queue written before the settings changed, an
        endpoint given up on)."""
        endpoint = endpoint_of(request)
        if endpoint not in self.paths:
            return None
        prefix = self.url(endpoint, path)
        parts = urlsplit(request.url)
        if origin(request.url) == origin(prefix) and parts.path == urlsplit(prefix).path:
            return None
        return f"{prefix}?{parts.query}"

    @staticmethod
    def _request(endpoint: str, url: str, **kwargs: Any) -> Request:
        meta = {
            **kwargs.pop("meta", {}),
            ENDPOINT_META: endpoint,
            # Every answer is judged by its body code, whatever the HTTP
            # status; a redirect would carry the token in its Location.
            "dont_redirect": True,
            "handle_httpstatus_all": True,
        }
        # Never twice for one note or page is decided from the store (leases,
        # fetch times, feed pages), which outlives a kill; Scrapy's dupefilter
        # file does not (it may hold requests that were lost in flight).
        return Request(url, meta=meta, dont_filter=True, **kwargs)


def endpoint_of(request: Request) -> str | None:
    return request.meta.get(ENDPOINT_META)
