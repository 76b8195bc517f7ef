"""The MongoDB store's update requests: order-free merges, as
:class:`~xhs_spider.store.note_state.NoteState` does them. Every value of a
request goes through :func:`~xhs_spider.store.values.storable` first, so
BSON can encode it (UTF-8 strings, int64)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pymongo import UpdateOne

from xhs_spider.store.base import (
    APPEARANCE_KEY,
    COMMENT_METRIC_KEY,
    COUNTERS,
    PAGE_KEY,
    RAW_ANSWER_KEY,
    SOURCE_PAGE_KEY,
    appearance_record,
    comment_metric,
    creator_record,
    metric_snapshot,
    raw_answer_record,
)
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.note_state import NoteState, note_states
from xhs_spider.store.values import storable, storable_counter

#: What a note record holds before anything but a feed has seen it.
NEW_NOTE: dict[str, Any] = {
    "status": "seen", "channels": [], "sources": [], "detail_fetched_at": None, "unavailable_at": None,
    "failed_at": None, "failed_reason": None,
    "comments_fetched_at": None, "comments_counter": None, "comments_stored": None,
}


def batch_requests(batch: WriteBatch) -> dict[str, list[UpdateOne]]:
    """The requests of *batch*, by collection, in the order to send them."""
    run_id = batch.run_id
    return {
        "feed_appearances": [appearance_request(item, run_id) for item in batch.all_appearances()],
        "notes": [request for note in note_states(batch).values() for request in note_requests(note)],
        "note_metrics": [metric_request(item, run_id) for item in batch.notes],
        "runs": [run_request(run) for run in batch.runs],
        "feed_pages": [keyed_request(page, PAGE_KEY) for page in batch.pages],
        "source_pages": [keyed_request(page, SOURCE_PAGE_KEY) for page in batch.source_pages],
        "creators": [
            request for item in batch.creators
            for request in newest_requests(creator_record(item, run_id), "user_id", "fetched_at")
        ],
        "raw_answers": [keyed_request(raw_answer_record(item, run_id), RAW_ANSWER_KEY) for item in batch.raw_answers],
        "share_links": [
            request for link in batch.share_links for request in newest_requests(link, "url", "at")
        ],
        "comments": [request for item in batch.comments for request in comment_requests(item)],
        "comment_metrics": [comment_metric_request(item, run_id) for item in batch.comments],
    }


def appearance_request(item: dict, run_id: str) -> UpdateOne:
    return keyed_request(appearance_record(item, run_id), APPEARANCE_KEY)


def keyed_request(record: dict, key: tuple[str, ...]) -> UpdateOne:
    """Upsert *record* at its *key*: a replay sets the same fields again."""
    record = storable(record)
    where = {name: record[name] for name in key}
    return UpdateOne(where, {"$set": {name: value for name, value in record.items() if name not in where}},
                     upsert=True)


def newest_requests(record: dict, key: str, time: str) -> Iterator[UpdateOne]:
    """Keep the newest *record* by its *time* at ``_id`` = its *key*; of two
    with the same time, the first written (a replay changes nothing)."""
    record = storable(record)
    this = {"_id": record[key]}
    yield UpdateOne(this, {"$setOnInsert": record}, upsert=True)
    yield UpdateOne(all_of(this, {time: {"$lt": record[time]}}), {"$set": record})


def comment_requests(item: dict) -> Iterator[UpdateOne]:
    """Keep the newest comment (as :func:`newest_requests`) and the earliest
    time it was fetched."""
    yield from newest_requests(item, "comment_id", "fetched_at")
    record = storable(item)
    yield UpdateOne({"_id": record["comment_id"]}, {"$min": {"first_fetched_at": record["fetched_at"]}})


def comment_metric_request(item: dict, run_id: str) -> UpdateOne:
    snapshot = storable(comment_metric(item, run_id))
    snapshot["likes"] = storable_counter(snapshot["likes"])
    key = {name: snapshot.pop(name) for name in COMMENT_METRIC_KEY}
    # The first snapshot of a fetch stays: a replay carries the same likes.
    return UpdateOne(key, {"$setOnInsert": snapshot}, upsert=True)


def metric_request(item: dict, run_id: str) -> UpdateOne:
    snapshot = storable(metric_snapshot(item, run_id))
    # As in SQLite's INTEGER columns: a counter beyond 64 bits is null.
    snapshot.update((name, storable_counter(snapshot[name])) for name in COUNTERS)
    key = {"note_id": snapshot.pop("note_id"), "fetched_at": snapshot.pop("fetched_at")}
    # The first snapshot of a fetch stays: a replay carries the same counters.
    return UpdateOne(key, {"$setOnInsert": snapshot}, upsert=True)


def run_request(run: dict) -> UpdateOne:
    run = storable(run)
    return UpdateOne({"_id": run["run_id"]}, {"$set": run}, upsert=True)


def note_requests(state: NoteState) -> Iterator[UpdateOne]:
    """Merge ``state`` into the stored note, as :meth:`NoteState.merge` does."""
    state = replace(state, channels={storable(channel) for channel in state.channels},
                    sources={storable(source) for source in state.sources},
                    detail=storable(state.detail))
    this_note = {"_id": state.note_id}
    yield UpdateOne(
        this_note,
        {
            "$setOnInsert": {"note_id": state.note_id, **NEW_NOTE},
            "$min": {"first_seen_at": state.first_seen_at},
            "$max": {"last_seen_at": state.last_seen_at},
        },
        upsert=True,
    )
    if state.channels:
        # A separate request: $addToSet cannot share an update with the
        # $setOnInsert that creates the array.
        yield UpdateOne(this_note, {"$addToSet": {"channels": {"$each": sorted(state.channels)}}})
    if state.sources:
        yield UpdateOne(this_note, {"$addToSet": {"sources": {"$each": sorted(state.sources)}}})
    if state.detail is not None:
        at = state.detail_fetched_at
        yield UpdateOne(
            all_of(this_note, null_or("detail_fetched_at", {"$lte": at})),
            {"$set": {**state.detail, "detail_fetched_at": at}},
        )
        yield UpdateOne(
            all_of(this_note, {"detail_fetched_at": at}, null_or("unavailable_at", {"$lte": at})),
            {"$set": {"status": "ok", "unavailable_at": None}},
        )
    if state.failed_at is not None:
        yield from failure_requests(this_note, state)
    if state.comments_fetched_at is not None:
        yield UpdateOne(
            all_of(this_note, null_or("comments_fetched_at", {"$lt": state.comments_fetched_at})),
            {"$set": {"comments_fetched_at": state.comments_fetched_at,
                      "comments_counter": storable_counter(state.comments_counter),
                      "comments_stored": storable_counter(state.comments_stored)}},
        )
    if state.unavailable_at is not None:
        yield UpdateOne(
            all_of(this_note, null_or("detail_fetched_at", {"$lt": state.unavailable_at})),
            {"$set": {"status": "unavailable"}, "$max": {"unavailable_at": state.unavailable_at}},
        )


def failure_requests(this_note: dict[str, Any], state: NoteState) -> Iterator[UpdateOne]:
    at = state.failed_at
    yield UpdateOne(
        all_of(this_note, null_or("failed_at", {"$lte": at})),
        {"$set": {"failed_at": at, "failed_reason": state.failed_reason}},
    )
    yield UpdateOne(all_of(this_note, {"status": "seen"}), {"$set": {"status": "failed"}})


def all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    # An explicit $and, not one merged filter: nx-27017 (a MongoDB-compatible
    # server) ignores the other conditions of a filter that holds an $or.
    return {"$and": list(conditions)}


def null_or(name: str, condition: dict[str, Any]) -> dict[str, Any]:
    # Comparisons never match null, which stands for "never happened".
    return {"$or": [{name: None}, {name: condition}]}
