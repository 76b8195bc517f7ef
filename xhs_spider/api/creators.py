"""A creator's profile (``get-user/v3``) as the fields of a ``CreatorItem``.

The vendor publishes no schema for it. The app's payload is flat (``userid``,
``nickname``, ``red_id``, ``desc``, ``fans``, ``follows``, ``liked``,
``ndiscovery``), sometimes under ``user``; the web's keeps the names under
``basic_info`` and the counters as a list of ``interactions``
(``{"type": "fans", "count": "1.2万"}``). Every field is looked for in each;
counters may be numbers or text and are expanded (``"1.2万"`` is 12000).
Nothing here raises on odd values: a field that cannot be read is ``None``.
"""

from __future__ import annotations

from typing import Any

from xhs_spider.api.normalize import clean_text, parse_counter

#: Where a profile's fields may be, outermost first.
_HOLDERS = ("user", "user_info", "userInfo", "basic_info", "basicInfo")
_FIELDS = {
    "user_id": ("userid", "user_id", "userId", "id"),
    "nickname": ("nickname", "nick_name", "nickName", "name"),
    "red_id": ("red_id", "redId"),
    "description": ("desc", "description", "signature"),
    "avatar": ("imageb", "images", "avatar", "image"),
}
_COUNTERS = {
    "followers": ("fans", "followers", "fans_count"),
    "following": ("follows", "following", "follow_count"),
    "notes": ("ndiscovery", "notes", "note_count", "notes_count"),
    "likes_and_collects": ("liked", "interaction", "liked_count", "likes_and_collects"),
}


def creator_fields(data: object, *, fetched_at: str, request_id: str | None) -> dict[str, Any] | None:
    """The fields of a ``CreatorItem`` read from a profile's *data*, or
    ``None`` when it holds no user id (an answer that cannot be read)."""
    places = _places(data)
    user_id = _first(places, _FIELDS["user_id"], _id)
    if user_id is None:
        return None
    fields: dict[str, Any] = {"user_id": user_id}
    for name, names in _FIELDS.items():
        if name != "user_id":
            fields[name] = _first(places, names, _string)
    counters = _interactions(places)
    for name, names in _COUNTERS.items():
        value = _first(places, names, parse_counter)
        fields[name] = value if value is not None else _first([counters], names, parse_counter)
    fields.update(fetched_at=fetched_at, request_id=request_id,
                  raw=data if isinstance(data, dict) else {"data": data})
    return fields


def _places(data: object) -> list[dict[str, Any]]:
    """*data* and the objects under it that may hold the profile's fields."""
    if not isinstance(data, dict):
        return []
    places = [data]
    for place in list(places):
        places += [inner for key in _HOLDERS if isinstance(inner := place.get(key), dict)]
    for place in list(places):
        places += [inner for key in _HOLDERS if isinstance(inner := place.get(key), dict)
                   and inner not in places]
    return places


def _interactions(places: list[dict[str, Any]]) -> dict[str, Any]:
    """The web's ``interactions`` list as ``{type: count}``."""
    for place in places:
        entries = place.get("interactions")
        if isinstance(entries, list):
            return {entry["type"]: entry.get("count") for entry in entries
                    if isinstance(entry, dict) and isinstance(entry.get("type"), str)}
    return {}


def _first(places: list[dict[str, Any]], names: tuple[str, ...], read: Any) -> Any:
    for place in places:
        for name in names:
            value = read(place.get(name))
            if value is not None:
                return value
    return None


def _string(value: object) -> str | None:
    return clean_text(value) if isinstance(value, str) and value.strip() else None


def _id(value: object) -> str | None:
    text = _string(value)
    return text.strip() if text is not None else None
