"""The dataset read from a MongoDB store, streamed through cursors in batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pymongo import ASCENDING, MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from xhs_spider.dataset.query import CHANNEL, COLLECTIONS, Query, with_source
from xhs_spider.dataset.sqlite_reader import CHUNK_SIZE, NoStore, StoreUnreadable, run_matches
from xhs_spider.store.base import run_sort_key

SERVER_SELECTION_TIMEOUT_MS = 3000
_ORDER = {
    # The channel too: a store made before there were other sources has no source_kind.
    "notes": ["_id"], "appearances": ["run_id", "source_kind", "source_value", "channel", "page", "position"],
    "metrics": ["note_id", "fetched_at"], "creators": ["user_id"],
    "comments": ["note_id", "comment_id"], "comment_metrics": ["comment_id", "fetched_at"],
}
#: Collections whose records name their note: --source keeps those of the sources' notes.
_OF_NOTES = ("metrics", "comments", "comment_metrics")


class MongoDataset:
    def __init__(self, uri: str, database_name: str, display_uri: str) -> None:
        self.uri, self.database_name, self.display_uri = uri, database_name, display_uri
        self._client: MongoClient | None = None

    def open(self) -> None:
        client: MongoClient = MongoClient(
            self.uri, serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS)
        try:
            names = client[self.database_name].list_collection_names()
        except PyMongoError as exc:
            client.close()
            raise StoreUnreadable("cannot read %s: %s" % (self.display_uri, str(exc)[:160])) from exc
        if "notes" not in names:
            client.close()
            raise NoStore("no store at %s (nothing crawled there yet?)" % self.display_uri)
        self._client = client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def records(self, query: Query) -> Iterator[dict]:
        """The records *query* selects, in a stable order, one batch in memory at a time."""
        database = self._database()
        if query.collection == "runs":
            others = query.beyond_channels()
            found = None if others is None else {
                record["run_id"] for record in self._find(database, others, _filter(others))}
            runs = (_without_id(document) for document in database.runs.find({}))
            return iter(sorted((run for run in runs if run_matches(run, query, found)), key=run_sort_key))
        if query.collection in _OF_NOTES and query.sources is not None:
            return self._of_sources_notes(database, query)
        return self._find(database, query, _filter(query))

    def _find(self, database: Database, query: Query, conditions: dict[str, Any]) -> Iterator[dict]:
        order = [(name, ASCENDING) for name in _ORDER[query.collection]]
        cursor = database[COLLECTIONS[query.collection]].find(
            conditions, sort=order, batch_size=CHUNK_SIZE)
        for document in cursor:
            # Checked again here: the test server (nx-27017) was seen to answer
            # a $gte on these ISO strings unfiltered, now and then.
            if query.since is not None and str(document.get(query.time_field)) < query.since:
                continue
            if query.collection == "notes":
                document["channels"] = sorted(document.get("channels") or [])
                document["sources"] = sorted(document.get("sources") or [])
            if query.collection == "appearances":
                with_source(document)
            if query.collection in ("notes", "appearances", "creators") and not query.wants(document):
                continue  # checked again here too
            yield _without_id(document)

    def _of_sources_notes(self, database: Database, query: Query) -> Iterator[dict]:
        fields = {"_id": 1, "channels": 1, "sources": 1}
        note_ids = {doc["_id"] for doc in database.notes.find(_of_notes(query), fields) if query.wants(doc)}
        for record in self._find(database, query, _filter(query)):
            if record["note_id"] in note_ids:
                yield record

    def _database(self) -> Database:
        assert self._client is not None, "open() first"
        return self._client[self.database_name]


def _filter(query: Query) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    if query.since is not None:
        conditions[query.time_field] = {"$gte": query.since}
    if query.sources is not None and query.collection == "notes":
        conditions.update(_of_notes(query))
    if query.sources is not None and query.collection == "appearances":
        conditions.update(_of_appearances(query))
    if query.sources is not None and query.collection == "creators":
        conditions["user_id"] = {"$in": sorted(query.of_kind("user"))}
    if query.statuses is not None:
        conditions["status"] = {"$in": sorted(query.statuses)}
    return conditions


def _of_notes(query: Query) -> dict[str, Any]:
    """Notes seen under one of *query*'s sources (a channel's: in ``channels``,
    which a store made before there were other sources has too)."""
    return {"$or": [
        {"channels": {"$in": sorted(query.of_kind(CHANNEL))}},
        {"sources": {"$in": query.source_names}},
    ]}


def _of_appearances(query: Query) -> dict[str, Any]:
    """Appearances under one of *query*'s sources; a feed card's without a
    ``source_kind`` (stored before there were other sources) is its channel's."""
    return {"$or": [
        *({"source_kind": kind, "source_value": value} for kind, value in sorted(query.sources or ())),
        {"source_kind": None, "channel": {"$in": sorted(query.of_kind(CHANNEL))}},
    ]}


def _without_id(document: dict) -> dict:
    document.pop("_id", None)
    return document
