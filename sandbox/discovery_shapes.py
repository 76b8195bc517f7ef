"""The shapes the discovery endpoints answer in: the ``data`` a client must read.

The vendor publishes no schema for them; the app's and the web's payloads,
as open-source clients show them, come in several shapes, and the sandbox
serves each:

- ``flat``: note objects as they are (``id``, or ``note_id`` in a creator's
  list; ``title``, ``display_title``, ``desc``, ``type``, ``likes``,
  ``user.userid``);
- ``wrapped``: ``{"model_type": "note", "note": {...}}`` (``liked_count``,
  ``user.userid``), among items that are not notes on search pages;
- ``note_card``: ``{"id", "model_type": "note", "xsec_token", "note_card":
  {"display_title", "type", "user": {"user_id", ...}, "interact_info":
  {"liked_count": "1.2万", ...}}}``, counters always text;
- ``unreadable``: code 0 with ``{"weird": 1}``, nothing a parser can read.

Counters are numbers or Xiaohongshu's text (``"1.2万"``, ``"10+"``), note by note.
"""

from __future__ import annotations

from typing import Any

from sandbox.data import (
    BASE36,
    Author,
    Note,
    display_counter,
    feed_image,
    feed_user,
    random_token,
    seeded_rng,
)

FLAT = "flat"
WRAPPED = "wrapped"
NOTE_CARD = "note_card"
UNREADABLE = "unreadable"
MIXED = "mixed"
#: The shapes ``mixed`` draws from, page by page.
READABLE_SHAPES = (FLAT, WRAPPED, NOTE_CARD)
DISCOVERY_SHAPES = (MIXED, *READABLE_SHAPES, UNREADABLE)
UNREADABLE_DATA = {"weird": 1}
#: Share of notes whose counters are text in the flat and wrapped shapes.
TEXT_COUNTER_SHARE = 0.35
COUNTERS = (("likes", "liked_count"), ("favourites", "collected_count"), ("comments", "comments_count"))


def counter(value: int, as_text: bool, seed: object) -> int | str:
    return display_counter(value, seeded_rng("counter", seed, value)) if as_text else value


def flat_note(note: Note, id_key: str, as_text: bool) -> dict[str, Any]:
    counts = note.counters
    item: dict[str, Any] = {
        id_key: note.note_id,
        "title": note.title,
        "display_title": note.title,
        "desc": note.content.split("\n", 1)[0],
        "type": "video" if note.is_video else "normal",
        "likes": counter(counts.likes, as_text, note.note_id),
        "collected_count": counter(counts.favourites, as_text, note.note_id),
        "comments_count": counter(counts.comments, as_text, note.note_id),
        "timestamp": note.created_ts,
        "user": feed_user(note.author),
        "images_list": [feed_image(note.images[0])],
        "xsec_token": note.xsec_token,
    }
    return item


def wrapped_note(note: Note, as_text: bool) -> dict[str, Any]:
    inner = flat_note(note, "id", as_text)
    inner["liked_count"] = inner.pop("likes")
    del inner["display_title"]
    return {"model_type": "note", "note": inner}


def card_note(note: Note) -> dict[str, Any]:
    cover = feed_image(note.images[0])
    counts = note.counters
    return {
        "id": note.note_id,
        "model_type": "note",
        "xsec_token": note.xsec_token,
        "note_card": {
            "display_title": note.title,
            "type": "video" if note.is_video else "normal",
            "user": {
                "user_id": note.author.user_id,
                "nickname": note.author.nickname,
                "nick_name": note.author.nickname,
                "avatar": note.author.avatar_url(80),
            },
            "interact_info": {
                "liked": False,
                "liked_count": str(counter(counts.likes, True, note.note_id)),
                "collected_count": str(counter(counts.favourites, True, note.note_id)),
                "comment_count": str(counter(counts.comments, True, note.note_id)),
            },
            "cover": {"url_default": cover["url"], "url_pre": cover["url_multi_level"]["low"],
                      "width": cover["width"], "height": cover["height"]},
            "time": note.created_ts * 1000,
        },
    }


def note_item(note: Note, shape: str, id_key: str, as_text: bool) -> dict[str, Any]:
    """*note* as one item of a list page in *shape* (flat, wrapped or note_card)."""
    if shape == WRAPPED:
        return wrapped_note(note, as_text)
    if shape == NOTE_CARD:
        return card_note(note)
    return flat_note(note, id_key, as_text)


def query_item(keyword: str, shape: str, seed: object) -> dict[str, Any]:
    """An item of a search page that is not a note: suggested searches."""
    queries = [{"name": keyword + suffix, "search_word": keyword + suffix} for suffix in (" 推荐", " 攻略", " 平价")]
    if shape == NOTE_CARD:
        item_id = "%s#%s" % (random_token(seeded_rng("rec-query", seed), BASE36, 16), keyword)
        return {"id": item_id, "model_type": "rec_query", "rec_query": {"title": "相关搜索", "queries": queries}}
    return {"model_type": "hot_query", "hot_query": {"title": "大家都在搜", "queries": queries}}


def profile_data(author: Author, note_count: int, shape: str) -> Any:
    """A creator's profile in *shape*: the app's (flat, or wrapped in ``user``) or the web's (note_card)."""
    if shape == UNREADABLE:
        return dict(UNREADABLE_DATA)
    rng = seeded_rng("profile", author.user_id)
    follows = rng.randrange(0, 900)
    liked = int(author.fans * rng.uniform(0.8, 6))
    gender = 1 if author.gender == "女" else 0
    if shape == NOTE_CARD:
        basic = {"nickname": author.nickname, "red_id": author.red_id, "desc": "", "gender": gender,
                 "ip_location": author.location, "images": author.avatar_url(360), "imageb": author.avatar_url(720)}
        interactions = [
            {"type": "follows", "name": "关注", "count": display_counter(follows, rng)},
            {"type": "fans", "name": "粉丝", "count": display_counter(author.fans, rng)},
            {"type": "interaction", "name": "获赞与收藏", "count": display_counter(liked, rng)},
        ]
        return {"user_id": author.user_id, "basic_info": basic, "interactions": interactions, "tags": []}
    profile = {
        "userid": author.user_id, "nickname": author.nickname, "red_id": author.red_id, "desc": "",
        "gender": gender, "ip_location": author.location, "images": author.avatar_url(360),
        "imageb": author.avatar_url(720), "fans": author.fans, "follows": follows, "liked": liked,
        "ndiscovery": note_count,
    }
    return {"user": profile} if shape == WRAPPED else profile


def share_data(url: str, share_url: str, shape: str) -> Any:
    """Where a share link leads, in *shape*: the URL itself (flat), ``{"url"}`` (wrapped)
    or ``{"redirectUrl", "shareUrl"}`` (note_card)."""
    if shape == UNREADABLE:
        return dict(UNREADABLE_DATA)
    if shape == WRAPPED:
        return {"url": url}
    if shape == NOTE_CARD:
        return {"redirectUrl": url, "shareUrl": share_url}
    return url
