"""The dataset read from a MongoDB store, streamed through cursors in batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pymongo import ASCENDING, MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from xhs_spider.dataset.query import COLLECTIONS, Query
from xhs_spider.dataset.sqlite_reader import CHUNK_SIZE, NoStore, StoreUnreadable, run_matches
from xhs_spider.store.base import APPEARANCE_KEY, run_sort_key

SERVER_SELECTION_TIMEOUT_MS = 3000
_ORDER = {
    "notes": ["_id"], "appearances": list(APPEARANCE_KEY), "metrics": ["note_id", "fetched_at"],
}


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
            runs = (_without_id(document) for document in database.runs.find({}))
            return iter(sorted((run for run in runs if run_matches(run, query)), key=run_sort_key))
        if query.collection == "metrics" and query.channels is not None:
            return self._metrics_of_channels(database, query)
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
            yield _without_id(document)

    def _metrics_of_channels(self, database: Database, query: Query) -> Iterator[dict]:
        assert query.channels is not None
        in_channels = {"channels": {"$in": sorted(query.channels)}}
        note_ids = {doc["_id"] for doc in database.notes.find(in_channels, {"_id": 1})}
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
    if query.channels is not None and query.collection in ("notes", "appearances"):
        field = "channels" if query.collection == "notes" else "channel"
        conditions[field] = {"$in": sorted(query.channels)}
    if query.statuses is not None:
        conditions["status"] = {"$in": sorted(query.statuses)}
    return conditions


def _without_id(document: dict) -> dict:
    document.pop("_id", None)
    return document
