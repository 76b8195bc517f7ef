"""The API endpoints: their paths and the parameter checks the vendor makes.

The feed and the note detail are here; the discovery endpoints (search,
creators, topics, profiles, share links) in :mod:`sandbox.discovery_params`,
the comment endpoints in :mod:`sandbox.comment_params`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sandbox.comment_params import COMMENT_PATHS, COMMENT_VALIDATORS
from sandbox.data import CHANNELS, DEFAULT_CHANNEL, is_valid_note_id
from sandbox.discovery_params import DISCOVERY_PATHS, DISCOVERY_VALIDATORS
from sandbox.queries import InvalidParameters, ValidQuery, page_number

FEED = "feed"
DETAIL = "detail"
API_PATHS = {
    "/api/xiaohongshu/get-note-feed/v1": FEED,
    "/api/xiaohongshu-pgy/get-note-detail/v1": DETAIL,
    "/api/xiaohongshu-pgy/api/solar/note/noteId/detail/v1": DETAIL,
    **DISCOVERY_PATHS,
    **COMMENT_PATHS,
}
BOOLEAN_TEXTS = ("true", "false", "1", "0")

__all__ = ["API_PATHS", "DETAIL", "FEED", "VALIDATORS", "InvalidParameters", "ValidQuery", "request_key"]


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
    page = page_number(params)
    return ValidQuery(FEED, "%s:%d" % (oid, page), oid=oid, page=page)


def validate_detail(params: dict[str, str]) -> ValidQuery:
    note_id = params.get("noteId", "")
    if not is_valid_note_id(note_id):
        raise InvalidParameters("noteId must be 24 lowercase hex characters")
    accept_cache = params.get("acceptCache")
    if accept_cache is not None and accept_cache.lower() not in BOOLEAN_TEXTS:
        raise InvalidParameters("acceptCache must be a boolean")
    return ValidQuery(DETAIL, note_id, note_id=note_id)


VALIDATORS = {FEED: validate_feed, DETAIL: validate_detail, **DISCOVERY_VALIDATORS, **COMMENT_VALIDATORS}
