"""Discovery answers (keyword search, a creator's notes, a topic's notes): the
notes on a page and the cursor of the next (when to stop: ``paging.py``).

The vendor publishes no schema for these answers' ``data``; what the app's
payloads look like in open-source clients is all there is, so the reading is
tolerant of shape:

* the page's entries are a list: ``data`` itself, or a list under ``data``
  or one level below (``data.items``, ``data.notes``, ``data.data.items``);
  the list holding the most notes wins, the usual keys first on a tie;
* an entry is a note object, or one wrapped as ``{"model_type": "note",
  "note": {...}}`` or ``{"id": ..., "note_card": {...}}``; ads, other
  ``model_type`` values, users and hash tags are skipped (:data:`SKIP_REASONS`);
* the next page's cursor is the page's (``cursor``, ``lastCursor``, ...) or
  else the note's own ``cursor`` of the last note that has one: opaque text,
  never changed.

Nothing here raises on odd values: a field that cannot be read is ``None``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from xhs_spider.api.counters import counter_text, parse_counter
from xhs_spider.api.normalize import clean_text, note_id_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

T = TypeVar("T")

#: Keys under which this family keeps a page's entries, most likely first.
LIST_KEYS = ("items", "notes", "note_list", "noteList", "list", "data")
CURSOR_KEYS = ("cursor", "lastCursor", "last_cursor", "next_cursor", "nextCursor")
HAS_MORE_KEYS = ("has_more", "hasMore")
#: Keys of a wrapper entry holding the note itself.
WRAPPER_KEYS = ("note", "note_card", "noteCard")
ID_KEYS = ("id", "note_id", "noteId")
#: Fields only a note has (a user or a hash tag has none of them).
NOTE_FIELDS = frozenset({
    "title", "display_title", "interact_info", "liked_count", "likes", "user",
    "images_list", "image_list", "cover", "video_info",
})
#: Xiaohongshu's note ``type`` → the project's.
NOTE_TYPES = {"normal": "image", "image": "image", "multi": "image", "video": "video"}
#: ``type`` values of entries that are no note.
OTHER_TYPES = frozenset({"user", "topic", "hash_tag", "hashtag", "tag", "ads", "live", "goods"})
#: Why an entry of a page is not a note (a fixed vocabulary: stats keys).
SKIP_REASONS = ("ads", "live", "other", "no_id", "malformed")
#: Kinds of entries (``model_type``, ``type``) with a reason of their own.
_OTHER_KINDS = {"ads": "ads", "ad": "ads", "live": "live"}


@dataclass(frozen=True)
class FoundNote:
    """One note of a discovery page. *rank*: its 1-based place among the
    page's notes; *position*: among its entries, skipped ones included (the
    feed's ``position``). *type*: ``"image"``, ``"video"`` or ``None`` (not
    said). *likes_text*: the API's text of the counter when it is no plain
    integer ("1.2万"). *raw*: the entry as sent, a wrapper included.
    *rejected*: fields given a value that could not be used (``likes``)."""

    note_id: str
    rank: int
    position: int
    title: str
    type: str | None
    likes: int | None
    likes_text: str | None
    author_id: str | None
    author_nickname: str | None
    raw: dict[str, Any]
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiscoveryPage:
    """What a discovery answer's ``data`` says. *cursor*: the next page's, as
    the API wrote it, or ``None``; *has_more*: ``None`` when not said;
    *readable*: whether anything recognisable was found, a list of entries or
    paging fields (an unreadable body is worth keeping for a look);
    *skipped*: entries that are no note, by reason (:data:`SKIP_REASONS`)."""

    notes: tuple[FoundNote, ...] = ()
    cursor: str | None = None
    has_more: bool | None = None
    readable: bool = False
    skipped: Mapping[str, int] = field(default_factory=dict)


def read_page(data: object) -> DiscoveryPage:
    """The notes and paging of a discovery answer's ``data``."""
    best: tuple[list[FoundNote], Counter[str], bool, dict[str, Any] | None] | None = None
    for entries, holder, known in _entry_lists(data):
        notes, skipped, recognised = _read_entries(entries, known)
        if best is None or (len(notes), recognised) > (len(best[0]), best[2]):
            best = notes, skipped, recognised, holder
    notes, skipped, recognised, holder = best or ([], Counter(), False, None)
    places = _paging_places(data, holder)
    cursor = _first(places, CURSOR_KEYS, _cursor)
    if cursor is None:
        cursor = next((c for note in reversed(notes) if (c := _note_cursor(note)) is not None), None)
    has_more = _first(places, HAS_MORE_KEYS, _flag)
    return DiscoveryPage(
        notes=tuple(notes), cursor=cursor, has_more=has_more,
        readable=recognised or cursor is not None or has_more is not None,
        skipped=dict(skipped),
    )


def _entry_lists(data: object) -> Iterator[tuple[list[Any], dict[str, Any] | None, bool]]:
    """Each list that may hold the page's entries: (the list, the object
    holding it, whether it is ``data`` or under one of :data:`LIST_KEYS`)."""
    if isinstance(data, list):
        yield data, None, True
    if not isinstance(data, dict):
        return
    for key, value in _usual_keys_first(data):
        if isinstance(value, list):
            yield value, data, key in LIST_KEYS
        elif isinstance(value, dict):
            for inner_key, inner in _usual_keys_first(value):
                if isinstance(inner, list):
                    yield inner, value, inner_key in LIST_KEYS


def _usual_keys_first(obj: dict[str, Any]) -> list[tuple[str, Any]]:
    usual = [(key, obj[key]) for key in LIST_KEYS if key in obj]
    return usual + [(key, value) for key, value in obj.items() if key not in LIST_KEYS]


def _read_entries(entries: list[Any], known: bool) -> tuple[list[FoundNote], Counter[str], bool]:
    """The notes among *entries*, the skipped ones by reason, and whether the
    list is recognisably a page (an empty list under a usual key, a note, an
    entry with a ``model_type``)."""
    notes: list[FoundNote] = []
    skipped: Counter[str] = Counter()
    recognised = known and not entries
    for position, entry in enumerate(entries, start=1):
        found = read_entry(entry, rank=len(notes) + 1, position=position)
        if isinstance(found, FoundNote):
            notes.append(found)
        else:
            skipped[found] += 1
            recognised = recognised or (isinstance(entry, dict) and "model_type" in entry)
    return notes, skipped, recognised or bool(notes)


def read_entry(entry: object, *, rank: int, position: int) -> FoundNote | str:
    """The note of one entry of a page, or why it is none (:data:`SKIP_REASONS`)."""
    if not isinstance(entry, dict):
        return "malformed"
    note = next((inner for key in WRAPPER_KEYS if isinstance(inner := entry.get(key), dict)), entry)
    reason = _not_a_note(entry, note)
    if reason is not None:
        return reason
    note_id = _first([note, entry], ID_KEYS, note_id_of)
    if note_id is None:
        return "no_id"
    likes_raw = _likes_raw(note)
    likes = parse_counter(likes_raw)
    likes_text = counter_text(likes_raw)
    author = _first([note], ("user", "user_info", "author"), _dict) or {}
    return FoundNote(
        note_id=note_id, rank=rank, position=position,
        title=_first([note], ("display_title", "title"), _string) or "",
        type=NOTE_TYPES.get(note["type"]) if isinstance(note.get("type"), str) else None,
        likes=likes,
        likes_text=None if likes_text is None else clean_text(likes_text),
        author_id=_first([author], ("userid", "user_id", "userId", "id"), _string),
        author_nickname=_first([author], ("nickname", "nick_name", "nickName", "name"), _string),
        raw=entry,
        rejected=("likes",) if likes is None and likes_raw is not None else (),
    )


def _not_a_note(entry: dict[str, Any], note: dict[str, Any]) -> str | None:
    if any(obj.get("is_ads") or obj.get("ads") for obj in (entry, note)):
        return "ads"
    model_type = entry.get("model_type")
    if model_type is not None and model_type != "note":
        return _OTHER_KINDS.get(model_type, "other") if isinstance(model_type, str) else "other"
    kind = note.get("type")
    if isinstance(kind, str) and kind in OTHER_TYPES:
        return _OTHER_KINDS.get(kind, "other")
    # Unwrapped and unnamed: a note by its fields. A user has a red_id of its
    # own; a note has its author's in its "user".
    if note is entry and model_type is None and (NOTE_FIELDS.isdisjoint(note) or "red_id" in note):
        return "other"
    return None


def _likes_raw(note: dict[str, Any]) -> object:
    """The likes counter as the API wrote it: the first given of the usual places."""
    for place, key in ((note.get("interact_info"), "liked_count"), (note, "liked_count"),
                       (note, "likes"), (note.get("interactInfo"), "likedCount")):
        if isinstance(place, dict) and place.get(key) is not None:
            return place[key]
    return None


def _note_cursor(note: FoundNote) -> str | None:
    places = [note.raw, *(inner for key in WRAPPER_KEYS if isinstance(inner := note.raw.get(key), dict))]
    return _first(places, ("cursor",), _cursor)


def _paging_places(data: object, holder: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Where paging fields may be: beside the entries, in ``data``, in ``data.data``."""
    places = [holder] if holder is not None else []
    if isinstance(data, dict):
        places += [data, *([data["data"]] if isinstance(data.get("data"), dict) else [])]
    return places


def _first(places: list[dict[str, Any]], keys: tuple[str, ...],
           read: Callable[[object], T | None]) -> T | None:
    """The first value under *keys* in *places* that *read* makes something of."""
    for place in places:
        for key in keys:
            value = read(place.get(key))
            if value is not None:
                return value
    return None


def _string(value: object) -> str | None:
    return clean_text(value) if isinstance(value, str) and value.strip() else None


def _dict(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _cursor(value: object) -> str | None:
    """A cursor, opaque: text as it is (``""`` is none), a whole number as text."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


_FLAGS = {"true": True, "1": True, "false": False, "0": False}


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return _FLAGS.get(value.strip().lower()) if isinstance(value, str) else None
