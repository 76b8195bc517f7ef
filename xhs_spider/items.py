"""Item classes, built from the JSON Schemas in :mod:`xhs_spider.schemas`."""

from __future__ import annotations

import warnings

from xhs_spider.schemas import load_schema

with warnings.catch_warnings():
    # scrapy-jsonschema 0.5 reads jsonschema's deprecated draftN_format_checker
    # attributes at import; nothing for our users to act on.
    warnings.simplefilter("ignore", DeprecationWarning)
    from scrapy_jsonschema.item import JsonSchemaItem


class NoteItem(JsonSchemaItem):
    """A note with its full detail (``schemas/note.json``)."""

    jsonschema = load_schema("note")


class FeedAppearanceItem(JsonSchemaItem):
    """A note card seen in a channel's feed (``schemas/feed_appearance.json``)."""

    jsonschema = load_schema("feed_appearance")


class AppearanceItem(JsonSchemaItem):
    """A note found on a page of a keyword's, creator's or topic's notes
    (``schemas/appearance.json``)."""

    jsonschema = load_schema("appearance")


class CreatorItem(JsonSchemaItem):
    """A creator's profile (``schemas/creator.json``)."""

    jsonschema = load_schema("creator")


class RawAnswerItem(JsonSchemaItem):
    """A paid discovery answer with no recognisable note, as received
    (``schemas/raw_answer.json``)."""

    jsonschema = load_schema("raw_answer")


class CommentItem(JsonSchemaItem):
    """A comment on a note or a reply to one (``schemas/comment.json``)."""

    jsonschema = load_schema("comment")
