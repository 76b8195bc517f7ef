"""The note store in a MongoDB database, through pymongo."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import ASCENDING, MongoClient, UpdateOne
from pymongo.database import Database
from pymongo.errors import ConnectionFailure

from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.base import (
    APPEARANCE_KEY,
    NoteState,
    NoteStore,
    StoreUnavailable,
    appearance_record,
    check_collection,
    metric_snapshot,
    note_states,
    run_sort_key,
)

#: Short, so that a server that is down is reported (and the batch spilled)
#: within seconds rather than after pymongo's 30 s default.
SERVER_SELECTION_TIMEOUT_MS = 3000
CONNECT_TIMEOUT_MS = 3000
SOCKET_TIMEOUT_MS = 10000

#: (collection, keys, unique)
INDEXES = (
    ("notes", [("status", ASCENDING), ("detail_fetched_at", ASCENDING)], False),
    ("feed_appearances", [(name, ASCENDING) for name in APPEARANCE_KEY], True),
    ("feed_appearances", [("note_id", ASCENDING)], False),
    ("note_metrics", [("note_id", ASCENDING), ("fetched_at", ASCENDING)], True),
)
#: What a note record holds before anything but a feed has seen it.
NEW_NOTE: dict[str, Any] = {"status": "seen", "channels": [], "detail_fetched_at": None, "unavailable_at": None}

_PASSWORD_OPTION = re.compile(r"((?:^|&)[^=&]*password[^=&]*=)[^&]*", re.IGNORECASE)


class MongoNoteStore(NoteStore):
    """The store in the database that ``mongodb://host:port/dbname`` names.

    In ``notes`` and ``runs``, ``_id`` is the note id and the run id.
    """

    def __init__(
        self,
        uri: str,
        *,
        server_selection_timeout_ms: int = SERVER_SELECTION_TIMEOUT_MS,
        connect_timeout_ms: int = CONNECT_TIMEOUT_MS,
        socket_timeout_ms: int = SOCKET_TIMEOUT_MS,
    ) -> None:
        self.uri = uri
        self.display_uri = masked_uri(uri)
        self.database_name = database_name(uri)
        self._client_options: dict[str, Any] = {
            "serverSelectionTimeoutMS": server_selection_timeout_ms,
            "connectTimeoutMS": connect_timeout_ms,
            "socketTimeoutMS": socket_timeout_ms,
        }
        self._client: MongoClient | None = None

    def open(self) -> None:
        if self._client is not None:
            return
        client: MongoClient = MongoClient(self.uri, **self._client_options)
        try:
            with self._unavailable_on_error("cannot open"):
                client.admin.command("ping")
                _create_indexes(client[self.database_name])
        except BaseException:
            client.close()
            raise
        self._client = client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def write(self, batch: WriteBatch) -> None:
        database = self._database()
        requests = {
            "feed_appearances": [_appearance_request(item, batch.run_id) for item in batch.appearances],
            "notes": [request for note in note_states(batch).values() for request in _note_requests(note)],
            "note_metrics": [_metric_request(item, batch.run_id) for item in batch.notes],
            "runs": [_run_request(run) for run in batch.runs],
        }
        with self._unavailable_on_error("cannot write"):
            for collection, collection_requests in requests.items():
                if collection_requests:
                    # Ordered: a note's requests rely on the ones before them.
                    database[collection].bulk_write(collection_requests, ordered=True)

    def fetch_times(self, note_ids: Collection[str]) -> dict[str, str]:
        if not note_ids:
            return {}
        query = {"_id": {"$in": list(note_ids)}}
        fields = {"_id": 1, "detail_fetched_at": 1, "unavailable_at": 1}
        with self._unavailable_on_error("cannot read"):
            documents = list(self._database().notes.find(query, fields))
        times = {}
        for document in documents:
            fetched = [document.get("detail_fetched_at"), document.get("unavailable_at")]
            known = [at for at in fetched if at]
            if known:
                times[document["_id"]] = max(known)
        return times

    def stale_note_ids(self, before: str, limit: int | None = None) -> list[str]:
        if limit == 0:
            return []  # pymongo reads limit 0 as "no limit"
        query = _all_of({"status": "ok"}, {"detail_fetched_at": {"$lt": before}})
        oldest_first = [("detail_fetched_at", ASCENDING), ("_id", ASCENDING)]
        cursor = self._database().notes.find(query, {"_id": 1}, sort=oldest_first)
        if limit is not None:
            cursor = cursor.limit(limit)
        with self._unavailable_on_error("cannot read"):
            return [document["_id"] for document in cursor]

    def get_note(self, note_id: str) -> dict | None:
        with self._unavailable_on_error("cannot read"):
            document = self._database().notes.find_one({"_id": note_id})
        return None if document is None else _note_record(document)

    def iter_notes(self) -> Iterator[dict]:
        with self._unavailable_on_error("cannot read"):
            for document in self._database().notes.find({}, sort=[("_id", ASCENDING)]):
                yield _note_record(document)

    def count(self, collection: str) -> int:
        check_collection(collection)
        with self._unavailable_on_error("cannot read"):
            return self._database()[collection].count_documents({})

    def find_runs(self) -> list[dict]:
        with self._unavailable_on_error("cannot read"):
            records = [_without_id(document) for document in self._database().runs.find({})]
        return sorted(records, key=run_sort_key)

    def _database(self) -> Database:
        if self._client is None:
            raise RuntimeError("%r is not open" % self)
        return self._client[self.database_name]

    @contextmanager
    def _unavailable_on_error(self, what: str) -> Iterator[None]:
        # ConnectionFailure covers AutoReconnect, NetworkTimeout and
        # ServerSelectionTimeoutError: the server is down or unreachable.
        try:
            yield
        except ConnectionFailure as exc:
            raise StoreUnavailable("%s %s: %s" % (what, self.display_uri, exc)) from exc


def database_name(uri: str) -> str:
    """The database that a ``mongodb://`` URI names in its path."""
    name = urllib.parse.unquote(urllib.parse.urlsplit(uri).path.lstrip("/"))
    if not name:
        raise ValueError(
            "MongoDB URI %s names no database; add one to its path, e.g. mongodb://host:27017/xhs"
            % masked_uri(uri)
        )
    return name


def masked_uri(uri: str) -> str:
    """``uri`` with its password, and any password option, replaced by ***."""
    parts = urllib.parse.urlsplit(uri)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = "%s:***@%s" % (userinfo.split(":", 1)[0], hosts)
    query = _PASSWORD_OPTION.sub(r"\1***", parts.query)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=query))


def _create_indexes(database: Database) -> None:
    for collection, keys, unique in INDEXES:
        database[collection].create_index(keys, unique=unique)


def _appearance_request(item: dict, run_id: str) -> UpdateOne:
    record = appearance_record(item, run_id)
    key = {name: record[name] for name in APPEARANCE_KEY}
    fields = {name: value for name, value in record.items() if name not in key}
    return UpdateOne(key, {"$set": fields}, upsert=True)


def _metric_request(item: dict, run_id: str) -> UpdateOne:
    snapshot = metric_snapshot(item, run_id)
    key = {"note_id": snapshot.pop("note_id"), "fetched_at": snapshot.pop("fetched_at")}
    # The first snapshot of a fetch stays: a replay carries the same counters.
    return UpdateOne(key, {"$setOnInsert": snapshot}, upsert=True)


def _run_request(run: dict) -> UpdateOne:
    return UpdateOne({"_id": run["run_id"]}, {"$set": run}, upsert=True)


def _note_requests(state: NoteState) -> Iterator[UpdateOne]:
    """Merge ``state`` into the stored note, as :meth:`NoteState.merge` does."""
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
    if state.detail is not None:
        at = state.detail_fetched_at
        yield UpdateOne(
            _all_of(this_note, _null_or("detail_fetched_at", {"$lte": at})),
            {"$set": {**state.detail, "detail_fetched_at": at}},
        )
        yield UpdateOne(
            _all_of(this_note, {"detail_fetched_at": at}, _null_or("unavailable_at", {"$lte": at})),
            {"$set": {"status": "ok", "unavailable_at": None}},
        )
    if state.unavailable_at is not None:
        yield UpdateOne(
            _all_of(this_note, _null_or("detail_fetched_at", {"$lt": state.unavailable_at})),
            {"$set": {"status": "unavailable"}, "$max": {"unavailable_at": state.unavailable_at}},
        )


def _all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    # An explicit $and, not one merged filter: nx-27017 (a MongoDB-compatible
    # server) ignores the other conditions of a filter that holds an $or.
    return {"$and": list(conditions)}


def _null_or(name: str, condition: dict[str, Any]) -> dict[str, Any]:
    # Comparisons never match null, which stands for "never happened".
    return {"$or": [{name: None}, {name: condition}]}


def _note_record(document: dict) -> dict:
    record = _without_id(document)
    record["channels"] = sorted(record.get("channels") or [])
    return record


def _without_id(document: dict) -> dict:
    document.pop("_id", None)
    return document
