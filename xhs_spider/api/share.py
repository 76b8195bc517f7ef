"""Where a share link leads: the answer of ``share-url-transfer/v1``, read tolerantly.

The vendor publishes no schema for its ``data``: the URL as text, or an
object holding it (``url``, ``redirectUrl``, ...), perhaps one level down.
"""

from __future__ import annotations

from xhs_spider.api.sources import SourceValueError, parse_note_url, parse_user_id

URL_KEYS = ("url", "redirectUrl", "redirect_url", "longUrl", "long_url", "targetUrl",
            "target_url", "realUrl", "real_url", "location")


def resolved_url(data: object) -> str | None:
    """The URL a share link's answer names, or ``None`` when it names none."""
    if isinstance(data, str):
        text = data.strip()
        return text if text.lower().startswith(("http://", "https://")) else None
    if isinstance(data, dict):
        for place in (data, *(v for v in data.values() if isinstance(v, dict))):
            for key in URL_KEYS:
                found = resolved_url(place.get(key))
                if found is not None:
                    return found
    return None


def target_of(url: str) -> tuple[str, str] | None:
    """``("note", id)`` or ``("user", id)`` for a Xiaohongshu URL, else ``None``."""
    for kind, parse in (("note", parse_note_url), ("user", parse_user_id)):
        try:
            found = parse(url.split("?", 1)[0], kind)
        except SourceValueError:
            continue
        return kind, found
    return None
