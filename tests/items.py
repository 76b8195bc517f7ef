"""Items built from the vendor's documented examples (tests/data), for unit tests and exports."""

from __future__ import annotations

import json
from pathlib import Path

from itemadapter import ItemAdapter

from xhs_spider.api.normalize import card_fields, note_fields, note_url
from xhs_spider.items import FeedAppearanceItem, NoteItem

DATA = Path(__file__).parent / "data"


def example_note() -> NoteItem:
    data = json.loads((DATA / "detail_example.json").read_text("utf-8"))["data"]
    return NoteItem(note_fields(data, crawled_at="2026-11-22T00:00:00.000Z", request_id="r"))


def example_appearance(position: int = 1) -> FeedAppearanceItem:
    card = json.loads((DATA / "feed_example.json").read_text("utf-8"))["data"][0]
    fields = card_fields(card, channel="homefeed_food_v3", page=1, position=position, crawled_at="2026-11-22T00:00:00.000Z")
    return FeedAppearanceItem(fields)


# Items the export spider yields ----------------------------------------------

CRAWLED_AT = "2025-04-08T00:00:00Z"

#: Titles that trip up CSV and Excel: CJK, emoji, quotes, commas, a newline.
TITLES = ["上海落户普通人指南", '引号"与,逗号\n换行 😀🌸', "成都!这棵樱花树开爆了!!!"]

def example(name):
    return json.loads((DATA / name).read_text("utf-8"))["data"]


def note_id(number):
    return f"67f32a94000000001d02eb{number:02x}"


def note(number, title, **changes):
    detail = example("detail_example.json")
    fields = note_fields(detail, crawled_at=CRAWLED_AT, request_id="r1")
    fields.update(note_id=note_id(number), url=note_url(note_id(number)), title=title)
    fields.update(changes)
    return fields


def images(count):
    first = note(0, "")["images"][0]
    return [
        {**first, "file_id": f"file{n}", "width": None if n == 1 else 1080,
         "url": f"https://ci.example.com/{n}.jpg?w=1080"}
        for n in range(count)
    ]


def appearance(number, position, **changes):
    card = {**example("feed_example.json")[0], "id": note_id(number)}
    fields = card_fields(card, channel="homefeed_recommend", page=1, position=position,
                         crawled_at=CRAWLED_AT)
    fields.update(changes)
    return fields


def plain_items():
    """Image notes with every optional field present, video null."""
    return [
        NoteItem(note(1, TITLES[0])),
        NoteItem(note(2, TITLES[1], images=images(3), hashtags=["上海落户", "人才 引进"])),
        NoteItem(note(3, TITLES[2])),
        FeedAppearanceItem(appearance(1, 1)),
        FeedAppearanceItem(appearance(2, 2)),
    ]


def optional_items():
    """Other optional fields: a video, missing optional keys, no cover."""
    video = {"video_id": "v1", "url": "https://v.example.com/1.mp4", "duration": 12.5,
             "width": 720, "height": 1280, "cover_file_id": None}
    sparse = note(4, TITLES[0], type="video", video=video, images=[])
    for name in ("updated_at", "request_id"):
        del sparse[name]
    sparse["author"] = {"user_id": "u1", "nickname": "地道的豆汁"}
    sparse["counts"] = {"likes": 1, "collects": 2, "comments": 3, "shares": 4}
    return [
        NoteItem(sparse),
        FeedAppearanceItem(
            appearance(4, 1, cover=None, likes=12000, likes_text="1.2万")
        ),
    ]


def export_items(variant):
    return plain_items() if variant == "plain" else optional_items()


def notes_of(variant):
    return [ItemAdapter(item).asdict() for item in export_items(variant)
            if isinstance(item, NoteItem)]

