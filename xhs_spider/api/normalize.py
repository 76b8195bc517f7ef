"""Raw API payloads → item fields (see ``schemas/*.json``).

Normalisation is a total function over whatever JSON the API sends: every
value either becomes what the schema wants or is rejected, for that one
field of that one record, as null. The rules:

* **Strings**: a lone surrogate (half of an emoji cut short, JSON
  ``"\\ud83d"``) becomes U+FFFD, so the text stays valid UTF-8 for every
  store and file. A value of another type where a string belongs is null
  (``""`` for ``title`` and ``text``). Not counted: the value is repaired.
* **Counters** (:func:`parse_counter`): a non-negative integer up to
  2**63 - 1 (the widest integer both stores hold: SQLite INTEGER, BSON
  int64), display texts expanded ("1.2万", "10+", "3456"). Beyond that,
  booleans, ±Infinity, NaN, negative or garbled: null, counted as rejected; a
  feed card keeps the API's text in ``likes_text`` (:func:`counter_text`:
  "99999999999999999999", "1e+300", "inf").
  Image and video sizes follow the same range, rejected silently.
* **Timestamps**: the unit is inferred from the magnitude, whatever the
  endpoint usually sends: below 1e11 seconds, below 1e14 milliseconds, below
  1e17 microseconds. A time before 2004 or more than a day ahead of the clock
  (or larger, non-numeric, ±Infinity, NaN) is null, counted as rejected.
* **Note ids**: white space around them is stripped; then exactly 24
  lowercase hex digits, or the card is skipped (``no_id``).

*rejected*, when a caller passes a list, receives the path of each field
the API gave a value for that could not be used (``counts.likes``,
``published_at``): the spiders count them as ``…/invalid/<field>``.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

NOTE_ID = re.compile(r"\A[0-9a-f]{24}\Z")
_HASHTAG = re.compile(r"#([^#\[\]\n]+?)\[话题\]#")
_SURROGATE = re.compile("[\ud800-\udfff]")

#: Plausible note times: nothing before 2004 (Xiaohongshu started in 2013).
EARLIEST = datetime(2004, 1, 1, tzinfo=timezone.utc).timestamp()
#: How far ahead of our clock a time may be (clock skew), in seconds.
FUTURE_SLACK = 86400.0
#: (below this magnitude, divide by this) to get seconds.
_UNITS = ((1e11, 1), (1e14, 1_000), (1e17, 1_000_000))

#: The largest counter kept: SQLite INTEGER and BSON int64 hold no more.
INT64_MAX = 2**63 - 1

_COUNTER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([万千wWkK亿]?)\s*\+?\s*$")
_MULTIPLIERS = {
    "": 1,
    "千": 1_000,
    "k": 1_000,
    "K": 1_000,
    "万": 10_000,
    "w": 10_000,
    "W": 10_000,
    "亿": 100_000_000,
}


def note_url(note_id: str) -> str:
    return f"https://www.xiaohongshu.com/explore/{note_id}"


def note_id_of(value: object) -> str | None:
    """The note id in *value*, white space around it stripped; ``None`` unless
    that leaves exactly 24 lowercase hex digits."""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return stripped if NOTE_ID.match(stripped) else None


def clean_text(value: str) -> str:
    """*value* with each lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-22T13:36:42.123Z``.

    One fixed width, so times sort as text the same way in every store, and
    two fetches of a note within a second stay two snapshots.
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch_seconds(epoch: object) -> float | None:
    """Seconds since 1970 from a time in s, ms or µs (unit inferred from the
    magnitude); ``None`` when it is no plausible note time."""
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
        return None
    if isinstance(epoch, float) and not math.isfinite(epoch):
        return None
    for limit, per_second in _UNITS:
        if epoch < limit:
            seconds = epoch / per_second
            break
    else:
        return None
    if not EARLIEST <= seconds <= time.time() + FUTURE_SLACK:
        return None
    return seconds


def utc_iso(epoch: object, *, millis: bool = False) -> str | None:
    """:func:`iso` of an epoch time in s, ms or µs, or ``None`` (see
    :func:`epoch_seconds`). *millis*, the unit an endpoint documents, is
    not needed: the magnitude tells."""
    seconds = epoch_seconds(epoch)
    return None if seconds is None else iso(datetime.fromtimestamp(seconds, tz=timezone.utc))


def now_iso(ago: timedelta = timedelta(0)) -> str:
    return iso(datetime.now(tz=timezone.utc) - ago)


def hashtags(text: str) -> list[str]:
    return list(dict.fromkeys(tag.strip() for tag in _HASHTAG.findall(text)))


def parse_counter(value: object) -> int | None:
    """The integer a counter stands for; ``None`` when it is not a counter.

    "10+" means at least 10, so it gives 10; "1.2万" gives 12000.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= INT64_MAX else None
    if isinstance(value, float):
        return _in_range(value)
    if not isinstance(value, str):
        return None
    match = _COUNTER.match(value)
    if match is None:
        return None
    number, unit = match.groups()
    # float() of 400 digits is inf: checked before rounding.
    return _in_range(float(number) * _MULTIPLIERS[unit])


def _in_range(value: float) -> int | None:
    if not math.isfinite(value) or not 0 <= value <= INT64_MAX:
        return None
    counter = round(value)
    return counter if counter <= INT64_MAX else None


def counter_text(value: object) -> str | None:
    """The counter as the API wrote it, when it is not a plain integer counter
    (``None`` for those, and for values that are no counter text at all).

    "1.2万" stays "1.2万"; an integer beyond 64 bits becomes its decimal text;
    a float its shortest text ("1e+300", "inf", "nan").
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if 0 <= value <= INT64_MAX:
            return None
        try:
            return str(value)
        except ValueError:  # beyond sys.get_int_max_str_digits()
            return None
    if isinstance(value, float):
        return repr(value)
    return value if isinstance(value, str) else None



def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= INT64_MAX else None


def _number_or_none(value: object) -> int | float | None:
    if isinstance(value, float):
        return value if math.isfinite(value) and 0 <= value <= INT64_MAX else None
    return _int_or_none(value)


def _text(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _string(value: object) -> str | None:
    """A string field: cleaned text, or ``None`` for anything else or ``""``."""
    return clean_text(value) if isinstance(value, str) and value else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _checked(raw: object, value: Any, field: str, rejected: list[str]) -> Any:
    """*value*, noting *field* as rejected when the API gave something unusable."""
    if value is None and raw is not None:
        rejected.append(field)
    return value


# Note details ------------------------------------------------------------

#: Detail counters: item field ← API field.
DETAIL_COUNTERS = {
    "likes": "likeNum", "collects": "favNum", "comments": "cmtNum", "shares": "shareNum",
    "reads": "readNum", "impressions": "impNum", "follows": "followCnt",
}


def detail_image(raw: dict[str, Any]) -> dict[str, Any] | None:
    url = _string(raw.get("url")) or _string(raw.get("original"))
    if not url:
        return None
    return {
        "file_id": _string(raw.get("fileId")) or _string(raw.get("traceId")),
        "url": url,
        "original_url": _string(raw.get("original")),
        "width": _int_or_none(raw.get("width")),
        "height": _int_or_none(raw.get("height")),
    }


def detail_video(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    return {
        "video_id": _string(raw.get("videoId")),
        "url": _string(raw.get("url")),
        "duration": _number_or_none(raw.get("duration")),
        "width": _int_or_none(raw.get("width")),
        "height": _int_or_none(raw.get("height")),
        "cover_file_id": _string(raw.get("firstFrameFileId")),
    }


def detail_author(data: dict[str, Any], rejected: list[str] | None = None) -> dict[str, Any]:
    user = _dict(data.get("userInfo"))
    fans = user.get("fansNum")
    return {
        "user_id": _text(user.get("userId")) or _text(data.get("userId")),
        "nickname": _string(user.get("nickName")) or _string(data.get("name")),
        "avatar": _string(user.get("avatar")) or _string(data.get("headPhoto")),
        "fans": _checked(fans, parse_counter(fans), "author.fans", [] if rejected is None else rejected),
        "gender": _string(user.get("gender")),
        "location": _string(user.get("location")),
        "red_id": _string(data.get("redId")),
    }


def detail_counts(data: dict[str, Any], rejected: list[str] | None = None) -> dict[str, int | None]:
    # A counter the API left out or garbled is unknown (None), not zero.
    rejected = [] if rejected is None else rejected
    return {
        name: _checked(data.get(raw), parse_counter(data.get(raw)), f"counts.{name}", rejected)
        for name, raw in DETAIL_COUNTERS.items()
    }


def note_fields(
    data: dict[str, Any], *, crawled_at: str, request_id: str | None,
    rejected: list[str] | None = None,
) -> dict[str, Any]:
    """A Note Details ``data`` object → :class:`~xhs_spider.items.NoteItem` fields.

    *rejected* receives the fields the API gave unusable values for.
    """
    rejected = [] if rejected is None else rejected
    note_id = note_id_of(data.get("noteId")) or ""
    text = _text(data.get("content"))
    video = detail_video(data.get("videoInfo"))
    times = _dict(data.get("time"))
    images = [detail_image(_dict(image)) for image in _list(data.get("imagesList"))]
    created, updated = times.get("createTime"), times.get("updateTime")
    return {
        "note_id": note_id,
        "url": note_url(note_id),
        "type": "video" if video is not None or data.get("type") == 2 else "image",
        "title": _text(data.get("title")),
        "text": text,
        "hashtags": hashtags(text),
        "images": [image for image in images if image is not None],
        "video": video,
        "author": detail_author(data, rejected),
        "counts": detail_counts(data, rejected),
        "published_at": _checked(created, utc_iso(created), "published_at", rejected),
        "updated_at": _checked(updated, utc_iso(updated), "updated_at", rejected),
        "crawled_at": crawled_at,
        "request_id": _string(request_id),
    }


# Feed cards --------------------------------------------------------------


def skip_reason(card: object) -> str | None:
    """Why a feed card is not a note we can follow, or ``None`` if it is one."""
    if not isinstance(card, dict):
        return "malformed"
    if card.get("is_ads"):
        return "ads"
    model_type = card.get("model_type")
    if model_type != "note":
        # A fixed vocabulary: these become stats keys.
        return "live" if model_type == "live" else "other"
    if note_id_of(card.get("id")) is None:
        return "no_id"
    return None


def card_cover(card: dict[str, Any]) -> dict[str, Any] | None:
    images = _list(card.get("images_list"))
    cover = _dict(images[0]) if images else {}
    url = _string(cover.get("url_size_large")) or _string(cover.get("url"))
    if url is None:
        return None
    return {
        "file_id": _string(cover.get("fileid")) or _string(cover.get("trace_id")),
        "url": url,
        "width": _int_or_none(cover.get("width")),
        "height": _int_or_none(cover.get("height")),
    }


def card_fields(
    card: dict[str, Any], *, channel: str, page: int, position: int, crawled_at: str,
    rejected: list[str] | None = None,
) -> dict[str, Any]:
    """A feed note card → :class:`~xhs_spider.items.FeedAppearanceItem` fields.

    *rejected* receives the fields the API gave unusable values for.
    """
    rejected = [] if rejected is None else rejected
    user = _dict(card.get("user"))
    likes, timestamp = card.get("likes"), card.get("timestamp")
    likes_text = counter_text(likes)
    return {
        "note_id": note_id_of(card.get("id")) or "",
        "channel": channel,
        "page": page,
        "position": position,
        "crawled_at": crawled_at,
        "title": _text(card.get("display_title")) or _text(card.get("title")),
        "type": "video" if card.get("type") == "video" else "image",
        "likes": _checked(likes, parse_counter(likes), "likes", rejected),
        "likes_text": None if likes_text is None else clean_text(likes_text),
        "author": {
            "user_id": _text(user.get("userid")),
            "nickname": _string(user.get("nickname")),
            "avatar": _string(user.get("images")),
        },
        "cover": card_cover(card),
        "category": _string(_dict(card.get("recommend")).get("category_name")),
        "published_at": _checked(timestamp, utc_iso(timestamp), "published_at", rejected),
    }
