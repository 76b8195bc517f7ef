"""Raw API payloads → item fields (see ``schemas/*.json``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from xhs_spider.api.counters import parse_counter

NOTE_ID = re.compile(r"^[0-9a-f]{24}$")
_HASHTAG = re.compile(r"#([^#\[\]\n]+?)\[话题\]#")


def note_url(note_id: str) -> str:
    return f"https://www.xiaohongshu.com/explore/{note_id}"


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-22T13:36:42.123Z``.

    One fixed width, so times sort as text the same way in every store, and
    two fetches of a note within a second stay two snapshots.
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def utc_iso(epoch: object, *, millis: bool = False) -> str | None:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or epoch <= 0:
        return None
    seconds = epoch / 1000 if millis else epoch
    return iso(datetime.fromtimestamp(seconds, tz=timezone.utc))


def now_iso(ago: timedelta = timedelta(0)) -> str:
    return iso(datetime.now(tz=timezone.utc) - ago)


def hashtags(text: str) -> list[str]:
    return list(dict.fromkeys(tag.strip() for tag in _HASHTAG.findall(text)))


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


# Note details ------------------------------------------------------------


def detail_image(raw: dict[str, Any]) -> dict[str, Any] | None:
    url = raw.get("url") or raw.get("original")
    if not url:
        return None
    return {
        "file_id": raw.get("fileId") or raw.get("traceId"),
        "url": url,
        "original_url": raw.get("original") or None,
        "width": _int_or_none(raw.get("width")),
        "height": _int_or_none(raw.get("height")),
    }


def detail_video(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    duration = raw.get("duration")
    return {
        "video_id": raw.get("videoId"),
        "url": raw.get("url"),
        "duration": duration if isinstance(duration, (int, float)) else None,
        "width": _int_or_none(raw.get("width")),
        "height": _int_or_none(raw.get("height")),
        "cover_file_id": raw.get("firstFrameFileId"),
    }


def detail_author(data: dict[str, Any]) -> dict[str, Any]:
    user = _dict(data.get("userInfo"))
    return {
        "user_id": user.get("userId") or data.get("userId") or "",
        "nickname": user.get("nickName") or data.get("name"),
        "avatar": user.get("avatar") or data.get("headPhoto"),
        "fans": parse_counter(user.get("fansNum")),
        "gender": user.get("gender") or None,
        "location": user.get("location") or None,
        "red_id": data.get("redId"),
    }


def detail_counts(data: dict[str, Any]) -> dict[str, int | None]:
    # A counter the API left out or garbled is unknown (None), not zero.
    return {
        "likes": parse_counter(data.get("likeNum")),
        "collects": parse_counter(data.get("favNum")),
        "comments": parse_counter(data.get("cmtNum")),
        "shares": parse_counter(data.get("shareNum")),
        "reads": parse_counter(data.get("readNum")),
        "impressions": parse_counter(data.get("impNum")),
        "follows": parse_counter(data.get("followCnt")),
    }


def note_fields(
    data: dict[str, Any], *, crawled_at: str, request_id: str | None
) -> dict[str, Any]:
    """A Note Details ``data`` object → :class:`~xhs_spider.items.NoteItem` fields."""
    note_id = data.get("noteId") or ""
    text = _text(data.get("content"))
    video = detail_video(data.get("videoInfo"))
    times = _dict(data.get("time"))
    images = [detail_image(_dict(image)) for image in _list(data.get("imagesList"))]
    return {
        "note_id": note_id,
        "url": note_url(note_id),
        "type": "video" if video is not None or data.get("type") == 2 else "image",
        "title": _text(data.get("title")),
        "text": text,
        "hashtags": hashtags(text),
        "images": [image for image in images if image is not None],
        "video": video,
        "author": detail_author(data),
        "counts": detail_counts(data),
        "published_at": utc_iso(times.get("createTime"), millis=True),
        "updated_at": utc_iso(times.get("updateTime"), millis=True),
        "crawled_at": crawled_at,
        "request_id": request_id,
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
    if not NOTE_ID.match(str(card.get("id") or "")):
        return "no_id"
    return None


def card_fields(
    card: dict[str, Any], *, channel: str, page: int, position: int, crawled_at: str
) -> dict[str, Any]:
    """A feed note card → :class:`~xhs_spider.items.FeedAppearanceItem` fields."""
    user = _dict(card.get("user"))
    images = _list(card.get("images_list"))
    likes = card.get("likes")
    cover = _dict(images[0]) if images else {}
    return {
        "note_id": card["id"],
        "channel": channel,
        "page": page,
        "position": position,
        "crawled_at": crawled_at,
        "title": _text(card.get("display_title") or card.get("title")),
        "type": "video" if card.get("type") == "video" else "image",
        "likes": parse_counter(likes),
        "likes_text": None if isinstance(likes, int) else likes,
        "author": {
            "user_id": user.get("userid") or "",
            "nickname": user.get("nickname"),
            "avatar": user.get("images") or None,
        },
        "cover": {
            "file_id": cover.get("fileid") or cover.get("trace_id"),
            "url": cover.get("url_size_large") or cover.get("url"),
            "width": _int_or_none(cover.get("width")),
            "height": _int_or_none(cover.get("height")),
        }
        if cover.get("url")
        else None,
        "category": _dict(card.get("recommend")).get("category_name") or None,
        "published_at": utc_iso(card.get("timestamp")),
    }
