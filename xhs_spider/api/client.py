"""Requests to the Just One API, built from the ``JUSTONEAPI_*`` settings."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from scrapy import Request

from xhs_spider.api.paging import page_query
from xhs_spider.api.sources import SearchFilters
from xhs_spider.config.declarations import (
    ACCEPT_CACHE,
    BASE_URL,
    COMMENTS_PATHS,
    DETAIL_PATHS,
    FEED_PATH,
    SEARCH_PATHS,
    SHARE_PATHS,
    SUB_COMMENTS_PATHS,
    TOPIC_NOTES_PATHS,
    USER_NOTES_PATHS,
    USER_PATHS,
    Setting,
)

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
SEARCH = "search"
USER_NOTES = "user_notes"
TOPIC_NOTES = "topic_notes"
USER = "user"
SHARE = "share"
COMMENTS = "comments"
SUB_COMMENTS = "sub_comments"
#: The discovery endpoints that answer a page of notes.
DISCOVERY_ENDPOINTS = (SEARCH, USER_NOTES, TOPIC_NOTES)
#: The endpoints that answer a page of a note's comments, or of a comment's replies.
COMMENT_ENDPOINTS = (COMMENTS, SUB_COMMENTS)
#: ``-a sort`` of the comments, as the comment endpoint's ``sort`` names it.
COMMENT_SORTS = {"latest": "latest", "normal": "normal", "likes": "like_count"}
#: Every endpoint, and the setting listing its paths in order of preference.
PATH_SETTINGS: dict[str, Setting[Any]] = {
    FEED: FEED_PATH, DETAIL: DETAIL_PATHS, SEARCH: SEARCH_PATHS, USER_NOTES: USER_NOTES_PATHS,
    TOPIC_NOTES: TOPIC_NOTES_PATHS, USER: USER_PATHS, SHARE: SHARE_PATHS,
    COMMENTS: COMMENTS_PATHS, SUB_COMMENTS: SUB_COMMENTS_PATHS,
}


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

    def __init__(self, base_url: str, paths: dict[str, list[str]], accept_cache: bool):
        self.base_url = base_url.rstrip("/")
        #: Each endpoint's paths, in order of preference (see EndpointMiddleware).
        self.paths = paths
        self.accept_cache = accept_cache

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JustOneApi:
        settings = crawler.settings
        paths: dict[str, list[str]] = {}
        for endpoint, setting in PATH_SETTINGS.items():
            value = setting.get(settings)
            paths[endpoint] = [value] if isinstance(value, str) else list(value)
        return cls(
            base_url=BASE_URL.get(settings),
            paths=paths,
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

    def search_request(self, keyword: str, page: int, filters: SearchFilters,
                       **kwargs: Any) -> Request:
        """Page *page* of the search for *keyword*, in the query of the first search path."""
        path = self.paths[SEARCH][0]
        params = search_params(path, {"keyword": keyword, "page": str(page), **filters.v4_params()})
        return self._request(SEARCH, f"{self.url(SEARCH)}?{urlencode(params)}", **kwargs)

    def user_notes_request(self, user_id: str, cursor: str | None, **kwargs: Any) -> Request:
        """A page of a creator's notes: the first, or the one after the note of *cursor*."""
        query = page_query({"userId": user_id}, "lastCursor", cursor)
        return self._request(USER_NOTES, f"{self.url(USER_NOTES)}?{query}", **kwargs)

    def topic_notes_request(self, topic_id: str, sort: str, cursor: str | None,
                            **kwargs: Any) -> Request:
        query = page_query({"topicId": topic_id, "sort": sort}, "cursor", cursor)
        return self._request(TOPIC_NOTES, f"{self.url(TOPIC_NOTES)}?{query}", **kwargs)

    def comments_request(self, note_id: str, sort: str, cursor: str | None,
                         **kwargs: Any) -> Request:
        """A page of a note's comments in *sort* (``-a sort``: latest, normal,
        likes): the first, or the one *cursor* (URL-encoded) leads to."""
        query = page_query({"noteId": note_id, "sort": COMMENT_SORTS[sort]}, "lastCursor", cursor)
        return self._request(COMMENTS, f"{self.url(COMMENTS)}?{query}", **kwargs)

    def sub_comments_request(self, note_id: str, comment_id: str, cursor: str | None,
                             **kwargs: Any) -> Request:
        """A page of the replies to the comment *comment_id* of a note."""
        query = page_query({"noteId": note_id, "commentId": comment_id}, "lastCursor", cursor)
        return self._request(SUB_COMMENTS, f"{self.url(SUB_COMMENTS)}?{query}", **kwargs)

    def user_request(self, user_id: str, **kwargs: Any) -> Request:
        """A creator's profile."""
        return self._request(USER, f"{self.url(USER)}?{urlencode({'userId': user_id})}", **kwargs)

    def share_request(self, share_url: str, **kwargs: Any) -> Request:
        """Where an ``xhslink.com`` share link leads."""
        return self._request(SHARE, f"{self.url(SHARE)}?{urlencode({'shareUrl': share_url})}",
                             **kwargs)

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
        query = parts.query
        if endpoint == SEARCH:
            query = urlencode(search_params(path, dict(parse_qsl(query, keep_blank_values=True))))
        return f"{prefix}?{query}"

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


def is_search_v2(path: str) -> bool:
    """Whether *path* is a ``search-note/v2``-like path, which takes v2's parameters."""
    return path.rstrip("/").rsplit("/", 1)[-1] == "v2"


def search_params(path: str, query: dict[str, str]) -> dict[str, str]:
    """The query of a search page for *path*, from a query written for v4 or
    v2 (a request built before the endpoint moved): ``keyword``, ``page``
    and the filters in the words *path* takes."""
    filters = SearchFilters.from_query(query)
    params = {"keyword": query.get("keyword", ""), "page": query.get("page", "1")}
    params.update(filters.v2_params() if is_search_v2(path) else filters.v4_params())
    return params
