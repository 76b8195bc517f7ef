"""What users name as a source of notes, beyond the channel feed: a keyword,
a creator, a topic, a share link or a note URL, and the search filters.

Each parser returns the value the API takes, or raises
:class:`SourceValueError` (a ``ValueError``) with one line naming the
argument and the value: ``sort='populer': unknown sort. Did you mean
'popular'? Choose from ...``. The spiders put ``-a `` in front of it.
Nothing here calls the API: a bad value costs nothing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from xhs_spider.api.normalize import note_id_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class SourceValueError(ValueError):
    """A source value the user must correct; its message says how."""


def did_you_mean(given: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the choice most like *given* (a typo), or ``""``."""
    close = difflib.get_close_matches(given, list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


#: The longest keyword accepted, in characters (the app's search box takes fewer).
KEYWORD_MAX_LENGTH = 100
#: Hosts of the Xiaohongshu website, and of its short share links.
XHS_HOSTS = frozenset({"xiaohongshu.com", "www.xiaohongshu.com"})
SHARE_HOST = "xhslink.com"
#: Xiaohongshu's ids (users, notes, topics) are 24 lowercase hex digits.
_ID = "([0-9a-f]{24})"
_PROFILE_PATH = re.compile(rf"\A/user/profile/{_ID}/?\Z")
_TOPIC_PATH = re.compile(rf"\A/page/topics/{_ID}/?\Z")
_NOTE_PATH = re.compile(rf"\A/(?:explore|discovery/item|search_result)/{_ID}/?\Z")
#: A URL written without its scheme, as browsers show it.
_SCHEMELESS = re.compile(r"(?i)\A(?:www\.)?(?:xiaohongshu|xhslink)\.com/")
#: A share link inside the text the app copies ("... http://xhslink.com/a/x，复制本条信息 ..."):
#: it ends at white space or the first character that is not printable ASCII.
_SHARE_IN_TEXT = re.compile(r"(?i)(?<![!-~])https?://xhslink\.com/[!#-~]+")
#: ASCII punctuation that ends a sentence around a link, not the link.
_TRAILING = ".,;:!?)]}'"


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise SourceValueError(f"{name}={value!r}: expected text.")
    return value.strip()


def _with_scheme(text: str) -> str:
    return "https://" + text if _SCHEMELESS.match(text) else text


def _url(text: str) -> SplitResult | None:
    """*text* as an http(s) URL with a host, or ``None``."""
    try:
        parts = urlsplit(_with_scheme(text))
        parts.port  # noqa: B018 -- a bad port raises ValueError
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return parts


def _id_in_xhs_url(text: str, path: re.Pattern[str]) -> str | None:
    parts = _url(text)
    if parts is None or parts.hostname not in XHS_HOSTS:
        return None
    match = path.match(parts.path)
    return match.group(1) if match else None


def parse_keyword(value: object, name: str = "keyword") -> str:
    """The search words, white space around them stripped."""
    keyword = _text(value, name)
    if not keyword:
        raise SourceValueError(f"{name}={value!r}: empty; give the words to search for.")
    if len(keyword) > KEYWORD_MAX_LENGTH:
        raise SourceValueError(
            f"{name}={value!r}: {len(keyword)} characters; at most {KEYWORD_MAX_LENGTH}."
        )
    return keyword


def _id_or_url(value: object, name: str, path: re.Pattern[str], what: str, url: str) -> str:
    """The id in *value*: a bare id, or the one in a Xiaohongshu URL of *path*."""
    text = _text(value, name)
    # User and topic ids have the form of note ids.
    found = note_id_of(text) or _id_in_xhs_url(text, path)
    if found is None:
        raise SourceValueError(
            f"{name}={value!r}: expected {what} id (24 lowercase hex digits) "
            f"or a URL https://www.xiaohongshu.com{url}."
        )
    return found


def parse_user_id(value: object, name: str = "user") -> str:
    """A creator's user id, bare or in a profile URL
    (``https://www.xiaohongshu.com/user/profile/<id>?...``)."""
    return _id_or_url(value, name, _PROFILE_PATH, "a user", "/user/profile/<id>")


def parse_topic_id(value: object, name: str = "topic") -> str:
    """A topic id, bare or in a topic page URL
    (``https://www.xiaohongshu.com/page/topics/<id>``)."""
    return _id_or_url(value, name, _TOPIC_PATH, "a topic", "/page/topics/<id>")


def parse_note_url(value: object, name: str = "note") -> str:
    """The note id of a note URL (``/explore/<id>``, ``/discovery/item/<id>``)
    or of a bare note id."""
    return _id_or_url(value, name, _NOTE_PATH, "a note", "/explore/<id>")


def parse_share_link(value: object, name: str = "share_url") -> str:
    """A short share link ``http(s)://xhslink.com/...``, alone or inside the
    text the app copies to share a note; returned as given (with
    ``https://`` in front if it had no scheme)."""
    text = _text(value, name)
    found = _SHARE_IN_TEXT.findall(text)
    link = _with_scheme(found[0].rstrip(_TRAILING) if len(found) == 1 else text)
    parts = _url(link)
    if (
        parts is None or parts.hostname != SHARE_HOST or parts.path.strip("/") == ""
        or any(character.isspace() for character in link)
    ):
        raise SourceValueError(
            f"{name}={value!r}: expected one share link http(s)://xhslink.com/..."
        )
    return link


# Choices ------------------------------------------------------------------

#: Search sort → the value of search v4's ``sortType`` and v2's ``sort``.
SEARCH_SORTS = {
    "general": "general",
    "popular": "popularity_descending",
    "latest": "time_descending",
    "comments": "comment_descending",
    "collects": "collect_descending",
}
#: Note type → search v4's ``noteType``, and v2's (0 all, 1 video, 2 normal).
NOTE_TYPES_V4 = {"all": "ALL", "video": "VIDEO_NOTE", "normal": "NORMAL_NOTE"}
NOTE_TYPES_V2 = {"all": "_0", "video": "_1", "normal": "_2"}
#: Publish-time window → search v4's ``timeFilter``, and v2's ``noteTime``
#: (which has no value for "all": the parameter is left out).
TIME_WINDOWS_V4 = {"all": "ALL", "day": "ONE_DAY", "week": "ONE_WEEK", "half_year": "HALF_YEAR"}
TIME_WINDOWS_V2 = {"day": "ONE_DAY", "week": "ONE_WEEK", "half_year": "HALF_YEAR"}
#: Sort of a topic's notes: the value of the topic endpoint's ``sort``.
TOPIC_SORTS = ("hot", "time")


def parse_choice(value: object, choices: Iterable[str], name: str,
                 synonyms: Mapping[str, str] | None = None) -> str:
    """*value*, one of *choices* (case and ``-`` for ``_`` forgiven), or the
    choice it is a synonym of (the API's own word: ``popularity_descending``
    for ``popular``)."""
    options = list(choices)
    text = _text(value, name).lower().replace("-", "_")
    text = {key.lower(): choice for key, choice in (synonyms or {}).items()}.get(text, text)
    if text not in options:
        raise SourceValueError(
            f"{name}={value!r}: unknown {name}.{did_you_mean(text, options)} "
            f"Choose from {', '.join(options)}."
        )
    return text


@dataclass(frozen=True)
class SearchFilters:
    """The keyword search's sort, note type and publish-time window, in the
    project's words (``popular``, ``video``, ``week``)."""

    sort: str = "general"
    note_type: str = "all"
    time: str = "all"

    @classmethod
    def parse(cls, sort: object = "general", note_type: object = "all",
              time: object = "all") -> SearchFilters:
        return cls(
            sort=parse_choice(sort, SEARCH_SORTS, "sort", _api_words(SEARCH_SORTS)),
            note_type=parse_choice(note_type, NOTE_TYPES_V4, "note_type",
                                   _api_words(NOTE_TYPES_V4)),
            time=parse_choice(time, TIME_WINDOWS_V4, "time", _api_words(TIME_WINDOWS_V4)),
        )

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> SearchFilters:
        """The filters of a search request's query, written for v4
        (``sortType``, ``noteType``, ``timeFilter``) or v2 (``sort``,
        ``noteType`` ``_0``/``_1``/``_2``, ``noteTime``); a value neither
        knows is the default."""
        note_types = {**_api_words(NOTE_TYPES_V4), **_api_words(NOTE_TYPES_V2)}
        return cls(
            sort=_api_words(SEARCH_SORTS).get(query.get("sortType") or query.get("sort", ""),
                                               "general"),
            note_type=note_types.get(query.get("noteType", ""), "all"),
            time=_api_words(TIME_WINDOWS_V4).get(
                query.get("timeFilter") or query.get("noteTime", ""), "all"),
        )

    def v4_params(self) -> dict[str, str]:
        """The query parameters of ``search-note/v4``."""
        return {
            "sortType": SEARCH_SORTS[self.sort],
            "noteType": NOTE_TYPES_V4[self.note_type],
            "timeFilter": TIME_WINDOWS_V4[self.time],
        }

    def v2_params(self) -> dict[str, str]:
        """The query parameters of ``search-note/v2``."""
        params = {"sort": SEARCH_SORTS[self.sort], "noteType": NOTE_TYPES_V2[self.note_type]}
        window: Mapping[str, str] = TIME_WINDOWS_V2
        if self.time in window:
            params["noteTime"] = window[self.time]
        return params


def _api_words(choices: Mapping[str, str]) -> dict[str, str]:
    """The API's value of each choice → the choice."""
    return {api: choice for choice, api in choices.items()}


def parse_topic_sort(value: object, name: str = "sort") -> str:
    return parse_choice(value, TOPIC_SORTS, name)
