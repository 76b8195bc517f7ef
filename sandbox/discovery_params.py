"""The discovery endpoints' paths and the parameter checks the vendor makes.

Keyword search (v4 and the older v2), a creator's notes, a topic's notes, a
creator's profile and the expansion of a share link. A call that passes
becomes a :class:`ValidQuery` carrying a :class:`DiscoveryRequest`; one that
does not raises :class:`InvalidParameters` (code 400, unbilled). Whether a
cursor belongs to the list, or a user id to a creator, is checked later,
against the data (:mod:`sandbox.discovery`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from sandbox.queries import DiscoveryRequest, InvalidParameters, ValidQuery, page_number

SEARCH = "search"
SEARCH_V2 = "search_v2"
USER_NOTES = "user_notes"
TOPIC_NOTES = "topic_notes"
USER = "user"
SHARE = "share"
SEARCH_PATH = "/api/xiaohongshu/search-note/v4"
SEARCH_V2_PATH = "/api/xiaohongshu/search-note/v2"
USER_NOTES_PATH = "/api/xiaohongshu/get-user-note-list/v4"
TOPIC_NOTES_PATH = "/api/xiaohongshu/get-topic-note-list/v1"
USER_PATH = "/api/xiaohongshu/get-user/v3"
SHARE_PATH = "/api/xiaohongshu/share-url-transfer/v1"
DISCOVERY_PATHS = {
    SEARCH_PATH: SEARCH,
    SEARCH_V2_PATH: SEARCH_V2,
    USER_NOTES_PATH: USER_NOTES,
    TOPIC_NOTES_PATH: TOPIC_NOTES,
    USER_PATH: USER,
    SHARE_PATH: SHARE,
}

#: Kinds of :class:`DiscoveryRequest`.
KEYWORD = "keyword"
CREATOR = "user"
TOPIC = "topic"
PROFILE = "profile"
SHARE_LINK = "share"

SORT_TYPES = ("general", "popularity_descending", "time_descending", "comment_descending", "collect_descending")
NOTE_TYPES = ("ALL", "VIDEO_NOTE", "NORMAL_NOTE")
TIME_FILTERS = ("ALL", "ONE_DAY", "ONE_WEEK", "HALF_YEAR")
#: search v2's noteType and noteTime in v4's words.
V2_NOTE_TYPES = {"_0": "ALL", "_1": "VIDEO_NOTE", "_2": "NORMAL_NOTE"}
V2_NOTE_TIMES = {"": "ALL", "ONE_DAY": "ONE_DAY", "ONE_WEEK": "ONE_WEEK", "HALF_YEAR": "HALF_YEAR"}
TOPIC_SORTS = ("hot", "time")
HEX_ID = re.compile(r"^[0-9a-f]{24}$")
PROFILE_HOSTS = ("www.xiaohongshu.com", "xiaohongshu.com")
PROFILE_PATH = re.compile(r"/user/profile/([0-9a-f]{24})/?$")
SHARE_HOST = "xhslink.com"
SHARE_LINK_PATH = re.compile(r"^/(?:[A-Za-z0-9]+/)*([A-Za-z0-9]+)/?$")


def choice(params: dict[str, str], name: str, allowed: tuple[str, ...] | dict[str, str], default: str) -> str:
    value = params.get(name) or default
    if value not in allowed:
        raise InvalidParameters("%s must be one of %s" % (name, ", ".join(allowed)))
    return allowed[value] if isinstance(allowed, dict) else value


def keyword(params: dict[str, str]) -> str:
    words = " ".join((params.get("keyword") or "").split())
    if not words:
        raise InvalidParameters("keyword is required")
    return words


def user_id(text: str) -> str:
    """The user id in *text*: an id, or a Xiaohongshu profile URL holding one."""
    if HEX_ID.match(text):
        return text
    parts = urlsplit(text if "://" in text else "https://" + text)
    match = PROFILE_PATH.search(parts.path)
    if parts.scheme not in ("http", "https") or parts.hostname not in PROFILE_HOSTS or not match:
        raise InvalidParameters("userId must be a user id or a profile URL containing /user/profile/")
    return match.group(1)


def share_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or parts.hostname != SHARE_HOST:
        raise InvalidParameters("shareUrl must begin http(s)://xhslink.com/")
    if not SHARE_LINK_PATH.match(parts.path):
        raise InvalidParameters("shareUrl has no link code")
    return "%s://%s%s" % (parts.scheme, SHARE_HOST, parts.path.rstrip("/"))


def discovery_query(endpoint: str, request: DiscoveryRequest) -> ValidQuery:
    key = "|".join([request.kind, request.value, *(value for _, value in request.options)])
    if request.kind == KEYWORD:
        key += "|%d" % request.page
    elif request.kind in (CREATOR, TOPIC):
        key += "|" + request.cursor
    return ValidQuery(endpoint, key, page=request.page, request=request)


def search_options(sort: str, note_type: str, time_filter: str) -> tuple[tuple[str, str], ...]:
    return (("sortType", sort), ("noteType", note_type), ("timeFilter", time_filter))


#: Each search version's parameters: name, values (v4's, or a mapping to them), default.
SEARCH_PARAMETERS: dict[str, tuple[tuple[str, tuple[str, ...] | dict[str, str], str], ...]] = {
    SEARCH: (("sortType", SORT_TYPES, "general"), ("noteType", NOTE_TYPES, "ALL"),
             ("timeFilter", TIME_FILTERS, "ALL")),
    SEARCH_V2: (("sort", SORT_TYPES, "general"), ("noteType", V2_NOTE_TYPES, "_0"),
                ("noteTime", V2_NOTE_TIMES, "")),
}


def search_validator(endpoint: str) -> Callable[[dict[str, str]], ValidQuery]:
    """The check of one search version's parameters."""

    def validate(params: dict[str, str]) -> ValidQuery:
        sort, note_type, time_filter = (
            choice(params, name, allowed, default) for name, allowed, default in SEARCH_PARAMETERS[endpoint]
        )
        options = search_options(sort, note_type, time_filter)
        return discovery_query(endpoint, DiscoveryRequest(KEYWORD, keyword(params), options, page_number(params)))

    return validate


validate_search = search_validator(SEARCH)
validate_search_v2 = search_validator(SEARCH_V2)


def validate_user_notes(params: dict[str, str]) -> ValidQuery:
    creator = user_id(params.get("userId", ""))
    return discovery_query(USER_NOTES, DiscoveryRequest(CREATOR, creator, cursor=params.get("lastCursor", "")))


def topic_id(params: dict[str, str]) -> str:
    value = params.get("topicId", "")
    if not HEX_ID.match(value):
        raise InvalidParameters("topicId must be 24 lowercase hex characters")
    return value


def validate_topic_notes(params: dict[str, str]) -> ValidQuery:
    options = (("sort", choice(params, "sort", TOPIC_SORTS, "hot")),)
    request = DiscoveryRequest(TOPIC, topic_id(params), options, cursor=params.get("cursor", ""))
    return discovery_query(TOPIC_NOTES, request)


def validate_user(params: dict[str, str]) -> ValidQuery:
    return discovery_query(USER, DiscoveryRequest(PROFILE, user_id(params.get("userId", ""))))


def validate_share(params: dict[str, str]) -> ValidQuery:
    return discovery_query(SHARE, DiscoveryRequest(SHARE_LINK, share_url(params.get("shareUrl", ""))))


DISCOVERY_VALIDATORS: dict[str, Callable[[dict[str, str]], ValidQuery]] = {
    SEARCH: validate_search,
    SEARCH_V2: validate_search_v2,
    USER_NOTES: validate_user_notes,
    TOPIC_NOTES: validate_topic_notes,
    USER: validate_user,
    SHARE: validate_share,
}
