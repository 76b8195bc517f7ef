"""What the discovery endpoints answer, and the free ground truth behind them.

:class:`DiscoveryService` turns a checked call (:mod:`sandbox.discovery_params`)
into its ``data``: the page of the list it asks for, in the shape the
configuration asks for (``discovery_shape``; ``mixed`` draws one per
endpoint and page from the seed), with the cursor that stops advancing when
``discovery_stuck_page`` says so. It raises :class:`InvalidParameters` for a
cursor the list never gave and :class:`UnknownTarget` for a user id no
creator has. :meth:`DiscoveryService.truth` answers
``GET /__sandbox__/discovery``: the note ids of every page, in order, for free.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.data import AUTHOR_POOL_SIZE, stable_fraction
from sandbox.discovery_data import NAMED_TOPICS, USER_PAGE_SIZE, DiscoveryUniverse
from sandbox.discovery_params import (
    CREATOR,
    KEYWORD,
    PROFILE,
    SEARCH,
    SEARCH_V2,
    SHARE_LINK,
    TOPIC,
    TOPIC_NOTES,
    USER_NOTES,
    discovery_query,
    validate_search,
    validate_share,
    validate_topic_notes,
    validate_user_notes,
)
from sandbox.discovery_shapes import (
    MIXED,
    NOTE_CARD,
    READABLE_SHAPES,
    TEXT_COUNTER_SHARE,
    UNREADABLE,
    UNREADABLE_DATA,
    WRAPPED,
    note_item,
    profile_data,
    query_item,
    share_data,
)
from sandbox.queries import DiscoveryRequest, InvalidParameters, ValidQuery

#: Share of search pages (wrapped and note_card shapes) that carry an item that is not a note.
QUERY_ITEM_SHARE = 0.5
#: The endpoints that serve each kind of list, for the shapes in the ground truth.
LIST_ENDPOINTS = {KEYWORD: (SEARCH, SEARCH_V2), TOPIC: (TOPIC_NOTES,), CREATOR: (USER_NOTES,)}


@dataclass(frozen=True)
class ListPage:
    """One page of a list: its note ids, the cursor it gives ("" for none) and whether more follow."""

    note_ids: list[str]
    cursor: str
    has_more: bool


class DiscoveryService:
    """The discovery endpoints' answers, from the universe and the live configuration."""

    def __init__(self, universe: DiscoveryUniverse, config: SandboxConfig) -> None:
        self.universe = universe
        self.config = config

    def shape(self, query: ValidQuery) -> str:
        if self.config.discovery_shape != MIXED:
            return self.config.discovery_shape
        roll = stable_fraction(self.universe.seed, "shape", query.endpoint, query.billing_key)
        return READABLE_SHAPES[int(roll * len(READABLE_SHAPES))]

    def data(self, query: ValidQuery) -> Any:
        """The ``data`` of a successful answer to *query*."""
        request = query.request
        assert request is not None
        shape = self.shape(query)
        if request.kind == PROFILE:
            index = self.universe.creator(request.value)
            return profile_data(self.universe.author(index), len(self.universe.creator_notes(index)), shape)
        if request.kind not in LIST_ENDPOINTS:
            return share_data(self.universe.share_target(request.value)[2], request.value, shape)
        page = self.page(request, self.config.discovery_stuck_page)
        if shape == UNREADABLE:
            return dict(UNREADABLE_DATA)
        return self.page_data(query, page, shape)

    def page(self, request: DiscoveryRequest, stuck: int | None) -> ListPage:
        """The page *request* asks for; from page *stuck* on, the page before it again."""
        if request.kind == CREATOR:
            return self.creator_page(request, stuck)
        if request.kind == KEYWORD:
            pages = self.universe.keyword_pages(request.value, *(value for _, value in request.options))
            index = request.page - 1
            cursors = [""] * len(pages)
        else:
            pages, cursors = self.topic_pages(request)
            index = self.cursor_position(cursors, request.cursor)
        if stuck is not None and stuck - 2 < min(index, len(pages) - 1):
            return ListPage(pages[stuck - 2], cursors[stuck - 2], True)
        if index >= len(pages):
            return ListPage([], "", False)
        return ListPage(pages[index], cursors[index], index + 1 < len(pages))

    def topic_pages(self, request: DiscoveryRequest) -> tuple[list[list[str]], list[str]]:
        pages = self.universe.topic_pages(request.value, request.option("sort"))
        return pages, self.universe.topic_cursors(request.value, request.option("sort"), len(pages))

    @staticmethod
    def cursor_position(cursors: list[str], cursor: str) -> int:
        """The page a cursor leads to (0: the first, asked without one)."""
        if not cursor:
            return 0
        if cursor not in cursors[:-1]:
            raise InvalidParameters("unknown cursor")
        return cursors.index(cursor) + 1

    def creator_page(self, request: DiscoveryRequest, stuck: int | None) -> ListPage:
        index = self.universe.creator(request.value)
        notes = self.universe.creator_notes(index)
        cursors = [self.universe.note_cursor(index, note_id) for note_id in notes]
        start = self.cursor_position(cursors + [""], request.cursor)
        if stuck is not None and (stuck - 1) * USER_PAGE_SIZE <= start < len(notes):
            # The page before again: its last note's cursor is the one asked with.
            return ListPage(notes[start - USER_PAGE_SIZE:start], request.cursor, True)
        end = start + USER_PAGE_SIZE
        return ListPage(notes[start:end], cursors[min(end, len(notes)) - 1] if notes[start:end] else "",
                        end < len(notes))

    def page_data(self, query: ValidQuery, page: ListPage, shape: str) -> dict[str, Any]:
        request = query.request
        assert request is not None
        items = []
        for position, note_id in enumerate(page.note_ids):
            note = self.universe.feed.note(note_id)
            as_text = stable_fraction(self.universe.seed, "text", query.endpoint, query.billing_key, position)
            item = note_item(note, shape, "note_id" if request.kind == CREATOR else "id", as_text < TEXT_COUNTER_SHARE)
            if request.kind == CREATOR:
                item["cursor"] = self.universe.note_cursor(self.universe.creator(request.value), note_id)
            items.append(item)
        if request.kind == KEYWORD:
            roll = stable_fraction(self.universe.seed, "query-item", query.endpoint, query.billing_key)
            if items and shape in (NOTE_CARD, WRAPPED) and roll < QUERY_ITEM_SHARE:
                items.insert(int(roll * 2 * len(items)), query_item(request.value, shape, query.billing_key))
            return {"items": items, "has_more": page.has_more}
        if request.kind == TOPIC:
            topic = {"id": request.value, "name": self.universe.topic_name(request.value)}
            return {"topic": topic, "notes": items, "cursor": page.cursor, "has_more": page.has_more}
        return {"notes": items, "has_more": page.has_more}

    # The ground truth ------------------------------------------------------

    def truth(self, kind: str, value: str, params: dict[str, str]) -> dict[str, Any]:
        """Every page of a list in order (ignoring ``discovery_stuck_page``), and its shapes."""
        if kind == "creators":
            return {"creators": [self.creator_summary(index) for index in range(AUTHOR_POOL_SIZE)]}
        if kind == "topics":
            return {"topics": [{"topicId": topic_id, "name": name} for topic_id, name in NAMED_TOPICS.items()]}
        if kind == SHARE_LINK:
            share = validate_share({"shareUrl": value}).request
            assert share is not None
            target, target_id, url = self.universe.share_target(share.value)
            return {"kind": kind, "value": value, "target": target, "id": target_id, "url": url}
        requests = self.truth_requests(kind, value, params)
        pages = [self.page(request, stuck=None) for request in requests]
        shapes = {
            endpoint: [self.shape(discovery_query(endpoint, request)) for request in requests]
            for endpoint in LIST_ENDPOINTS[kind]
        }
        listed = [note_id for page in pages for note_id in page.note_ids]
        return {
            "kind": kind, "value": requests[0].value, "options": dict(requests[0].options),
            "pages": [page.note_ids for page in pages], "cursors": [page.cursor for page in pages],
            "has_more": [page.has_more for page in pages], "shapes": shapes, "note_ids": list(dict.fromkeys(listed)),
            "duplicates": sorted({note_id for note_id in listed if listed.count(note_id) > 1}),
        }

    def truth_requests(self, kind: str, value: str, params: dict[str, str]) -> list[DiscoveryRequest]:
        """The requests that page through the whole list, first to last."""
        if kind not in TRUTH_VALIDATORS:
            raise InvalidParameters("kind must be keyword, user, topic, share, creators or topics")
        first = TRUTH_VALIDATORS[kind]({**params, TRUTH_VALUE_PARAMS[kind]: value}).request
        assert first is not None
        if kind == KEYWORD:
            count = len(self.universe.keyword_pages(first.value, *(option for _, option in first.options)))
            return [replace(first, page=page) for page in range(1, count + 1)]
        if kind == TOPIC:
            _, cursors = self.topic_pages(first)
            return [replace(first, cursor=cursor) for cursor in ["", *cursors[:-1]]]
        index = self.universe.creator(first.value)
        notes = self.universe.creator_notes(index)
        ends = range(USER_PAGE_SIZE, len(notes), USER_PAGE_SIZE)
        return [first] + [replace(first, cursor=self.universe.note_cursor(index, notes[end - 1])) for end in ends]

    def creator_summary(self, index: int) -> dict[str, Any]:
        author = self.universe.author(index)
        return {"userId": author.user_id, "nickname": author.nickname,
                "note_count": self.universe.base_note_count(index) + self.universe.growth.get(index, 0)}

    def grow(self, user_id: str, count: int) -> dict[str, Any]:
        """Creator *user_id* publishes *count* notes; they top its list from now on."""
        index = self.universe.creator(user_id)
        added = self.universe.grow(index, count)
        return {"userId": user_id, "added": added, "note_count": len(self.universe.creator_notes(index))}


#: The ground truth's kinds of list, how it checks them, and the parameter its value stands for.
TRUTH_VALIDATORS = {KEYWORD: validate_search, TOPIC: validate_topic_notes, CREATOR: validate_user_notes}
TRUTH_VALUE_PARAMS = {KEYWORD: "keyword", TOPIC: "topicId", CREATOR: "userId"}
