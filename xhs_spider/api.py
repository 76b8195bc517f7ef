"""Requests to, and answers from, the Just One API."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from scrapy import Request
from scrapy.exceptions import DownloadFailedError, DownloadTimeoutError, ResponseDataLossError
from scrapy.http import TextResponse

from xhs_spider.codes import BILLED_CODES
from xhs_spider.setting_checks import setting

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

#: Request.meta key naming the endpoint; only requests carrying it are API calls.
ENDPOINT_META = "justoneapi_endpoint"
FEED = "feed"
DETAIL = "detail"

MIN_MASKED_TOKEN_LENGTH = 8
TOKEN_PATTERN = re.compile(r"(token=)[^&\s\"'<>]+", re.IGNORECASE)


def mask_token(text: str, token: str | None = None) -> str:
    """*text* with every ``token=…`` value, and *token* itself, masked.

    The bare token is masked only when long enough to be told apart from
    ordinary text (a one-letter test token would mask every such letter).
    """
    if token and len(token) >= MIN_MASKED_TOKEN_LENGTH:
        text = text.replace(token, "***")
    return TOKEN_PATTERN.sub(r"\1***", text)


class InvalidBody(ValueError):
    """The API answered something that is not its JSON envelope."""


@dataclass(frozen=True)
class Envelope:
    code: int
    data: Any
    message: str | None
    request_id: str | None


def parse_envelope(response: Response) -> Envelope:
    try:
        if isinstance(response, TextResponse):
            body = response.json()
        else:
            body = json.loads(response.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidBody(f"body is not JSON ({len(response.body)} bytes)") from exc
    if not isinstance(body, dict) or not isinstance(body.get("code"), int):
        raise InvalidBody("body has no integer 'code'")
    return Envelope(
        code=body["code"],
        data=body.get("data"),
        message=body.get("message"),
        request_id=body.get("requestId"),
    )


#: Download errors after the request left: the API may have billed the call
#: although no answer came back (a refused connection or DNS failure did not).
POSSIBLY_BILLED_ERRORS = (DownloadTimeoutError, DownloadFailedError, ResponseDataLossError)


def is_billed(response: Response) -> bool:
    """Whether the account was charged for *response* (code 0 or 201).

    A response replayed from Scrapy's HTTP cache cost nothing this time.
    """
    if "cached" in response.flags:
        return False
    try:
        return parse_envelope(response).code in BILLED_CODES
    except InvalidBody:
        return False


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
            base_url=setting(settings, "JUSTONEAPI_BASE_URL"),
            feed_path=setting(settings, "JUSTONEAPI_FEED_PATH"),
            detail_path=setting(settings, "JUSTONEAPI_DETAIL_PATH"),
            accept_cache=setting(settings, "JUSTONEAPI_ACCEPT_CACHE"),
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
        return Request(url, meta=meta, **kwargs)


def endpoint_of(request: Request) -> str | None:
    return request.meta.get(ENDPOINT_META)
