"""Requests to the Just One API, built from the ``JUSTONEAPI_*`` settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from scrapy import Request

from xhs_spider.config.declarations import ACCEPT_CACHE, BASE_URL, DETAIL_PATH, FEED_PATH

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

#: Request.meta key naming the endpoint; only requests carrying it are API calls.
ENDPOINT_META = "justoneapi_endpoint"
FEED = "feed"
DETAIL = "detail"


class JustOneApi:
    """Builds API requests from the ``JUSTONEAPI_*`` settings.

    The requests carry no token: TokenMiddleware adds it at download time.
    """

    def __init__(
        self, base_url: str, feed_path: str, detail_path: str, accept_cache: bool
    ):
        self.base_url = base_url.rstrip("/")
        self.feed_url = self.base_url + feed_path
        self.detail_url = self.base_url + detail_path
        self.accept_cache = accept_cache

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JustOneApi:
        settings = crawler.settings
        return cls(
            base_url=BASE_URL.get(settings),
            feed_path=FEED_PATH.get(settings),
            detail_path=DETAIL_PATH.get(settings),
            accept_cache=ACCEPT_CACHE.get(settings),
        )

    def feed_request(self, oid: str, page: int, **kwargs: Any) -> Request:
        query = urlencode({"oid": oid, "page": page})
        return self._request(FEED, f"{self.feed_url}?{query}", **kwargs)

    def detail_request(self, note_id: str, **kwargs: Any) -> Request:
        params = {"noteId": note_id}
        if self.accept_cache:
            params["acceptCache"] = "true"
        return self._request(
            DETAIL, f"{self.detail_url}?{urlencode(params)}", **kwargs
        )

    def current_url(self, request: Request) -> str | None:
        """*request*'s URL at today's base URL and path, if it was built for
        others (a JOBDIR queue written before the settings changed)."""
        endpoint = endpoint_of(request)
        prefix = {FEED: self.feed_url, DETAIL: self.detail_url}.get(endpoint or "")
        parts = urlsplit(request.url)
        if prefix is None or f"{parts.scheme}://{parts.netloc}{parts.path}" == prefix:
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
