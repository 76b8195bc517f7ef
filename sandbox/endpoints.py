"""The two API endpoints: their paths and the parameter checks the vendor makes."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sandbox.data import CHANNELS, DEFAULT_CHANNEL, is_valid_note_id

FEED = "feed"
DETAIL = "detail"
API_PATHS = {
    "/api/xiaohongshu/get-note-feed/v1": FEED,
    "/api/xiaohongshu-pgy/get-note-detail/v1": DETAIL,
    "/api/xiaohongshu-pgy/api/solar/note/noteId/detail/v1": DETAIL,
}
BOOLEAN_TEXTS = ("true", "false", "1", "0")


class InvalidParameters(ValueError):
    """An API call whose parameters the vendor would answer with code 400."""


@dataclass(frozen=True)
class ValidQuery:
    endpoint: str
    billing_key: str
    oid: str = ""
    page: int = 0
    note_id: str = ""


def request_key(path: str, params: dict[str, str]) -> str:
    """The logical request: path and parameters without the token."""
    return (
        path
        + "?"
        + urlencode(sorted((name, value) for name, value in params.items() if name != "token"))
    )


def validate_feed(params: dict[str, str]) -> ValidQuery:
    oid = params.get("oid") or DEFAULT_CHANNEL
    if oid not in CHANNELS:
        raise InvalidParameters("unknown oid")
    try:
        page = int(params.get("page") or "1")
    except ValueError as error:
        raise InvalidParameters("page is not an integer") from error
    if page < 1:
        raise InvalidParameters("page must be at least 1")
    return ValidQuery(FEED, "%s:%d" % (oid, page), oid=oid, page=page)


def validate_detail(params: dict[str, str]) -> ValidQuery:
    note_id = params.get("noteId", "")
    if not is_valid_note_id(note_id):
        raise InvalidParameters("noteId must be 24 lowercase hex characters")
    accept_cache = params.get("acceptCache")
    if accept_cache is not None and accept_cache.lower() not in BOOLEAN_TEXTS:
        raise InvalidParameters("acceptCache must be a boolean")
    return ValidQuery(DETAIL, note_id, note_id=note_id)


VALIDATORS = {FEED: validate_feed, DETAIL: validate_detail}
