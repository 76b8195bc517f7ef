"""The note store in a MongoDB database, through pymongo.

Two parts, top to bottom: the URI (the database it names, checked before
anything connects, and the URI as it may be shown, its passwords masked);
and :class:`MongoNoteStore`. Its update requests, order-free merges as
:class:`~xhs_spider.store.note_state.NoteState` does them, are in
:mod:`.mongo_requests`: every value of a request is made storable first, so
a record with an odd value is stored, not refused, and cannot take its
batch down. Its indexes and the migration of older stores, done at open,
are in :mod:`.mongo_schema`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import ASCENDING, MongoClient, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConfigurationError, ConnectionFailure

# What parse_uri checks, without the DNS lookups of mongodb+srv:// (pymongo
# is pinned: a rename shows in the tests of the store).
from pymongo.uri_parser_shared import _validate_uri

from xhs_spider.store.base import (
    Lease,
    NoteStore,
    StoreUnavailable,
    check_collection,
    check_records,
    pick_comment_targets,
    run_sort_key,
)
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.mongo_requests import all_of, batch_requests
from xhs_spider.store.mongo_schema import migrate

#: Short, so that a server that is down is reported (and the batch spilled)
#: within seconds rather than after pymongo's 30 s default.
SERVER_SELECTION_TIMEOUT_MS = 3000
CONNECT_TIMEOUT_MS = 3000
SOCKET_TIMEOUT_MS = 10000

#: What pymongo adds to a connection error that says how it waited, not why
#: it failed: its timeouts, the server selection's own, the topology it saw
#: (a repr of every server, the same errors again), and errno numbers.
_WAITING_DETAILS = re.compile(
    r" \(configured timeouts:[^)]*\)|, Timeout: .*|\[Errno -?\d+\] ", re.DOTALL,
)

DUPLICATE_KEY = 11000
FETCH_TIME_FIELDS = ("detail_fetched_at", "unavailable_at", "failed_at")
#: A note's comment bookkeeping (absent from notes stored before comments were).
COMMENT_FIELDS = ("comments_fetched_at", "comments_counter", "comments_stored")

_PASSWORD_OPTION = re.compile(r"((?:^|&)[^=&]*password[^=&]*=)[^&]*", re.IGNORECASE)
_PASSWORD_OPTION_VALUE = re.compile(r"password[^=&]*=([^&]+)", re.IGNORECASE)



# The URI ---------------------------------------------------------------------


def database_name(uri: str) -> str:
    """The database that a ``mongodb://`` URI names in its path.

    ``ValueError``, with the password masked, if pymongo cannot read the URI
    (a port out of range, an unescaped ``@``, a space in the database name)
    or it names no database: found before anything connects.
    """
    try:
        parsed = _validate_uri(uri, warn=False)
    except (ConfigurationError, ValueError, TypeError) as exc:  # InvalidURI included
        raise ValueError(
            "MongoDB URI %s is malformed: %s" % (masked_uri(uri), _uri_problem(uri, exc))
        ) from None
    if not parsed["database"]:
        raise ValueError(
            "MongoDB URI %s names no database; add one to its path, e.g. mongodb://host:27017/xhs"
            % masked_uri(uri)
        )
    return str(parsed["database"])


def _credentials(uri: str) -> tuple[str, str, str]:
    """(``scheme://``, user info, the rest): the user info runs to the *last*
    ``@``, so that a password holding an unescaped ``/`` or ``@`` is still
    taken for one, and masked, rather than for a host or a database."""
    head, separator, rest = uri.partition("://")
    userinfo, at, hosts = rest.rpartition("@")
    return head + separator, userinfo if at else "", hosts if at else rest


def _uri_problem(uri: str, exc: Exception) -> str:
    """pymongo's complaint about *uri*, in words that never quote a password."""
    _, userinfo, _ = _credentials(uri)
    user, _, password = userinfo.partition(":")
    message = str(exc)
    escape = ("a user name or password holding @ : / ? # or % must be percent-escaped "
              "(urllib.parse.quote_plus)")
    if re.search(r"[@/?#]", user) or re.search(r"[@/?#:]", password):
        return escape
    if message.startswith("Port"):
        return "a port must be a whole number up to 65535"
    if "must be escaped" in message:
        return escape
    if message.startswith("Bad database name"):
        return message + ': a database name holds no space, /, \\, ., " or $'
    for secret in [password, *_PASSWORD_OPTION_VALUE.findall(uri)]:
        if secret:
            message = message.replace(secret, "***")
    return message


def masked_uri(uri: str) -> str:
    """``uri`` with its password, and any password option, replaced by ***."""
    head, userinfo, rest = _credentials(uri)
    if ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    hosts_and_path, question_mark, query = rest.partition("?")
    query = _PASSWORD_OPTION.sub(r"\1***", query)
    return head + (userinfo + "@" if userinfo else "") + hosts_and_path + question_mark + query


# The store -------------------------------------------------------------------


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
                migrate(client[self.database_name])
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
        requests = batch_requests(batch)
        with self._unavailable_on_error("cannot write"):
            for collection, collection_requests in requests.items():
                if collection_requests:
                    # Ordered: a note's requests rely on the ones before them.
                    database[collection].bulk_write(collection_requests, ordered=True)

    def fetch_times(self, note_ids: Collection[str]) -> dict[str, str]:
        if not note_ids:
            return {}
        query = {"_id": {"$in": list(note_ids)}}
        fields = {"_id": 1, **dict.fromkeys(FETCH_TIME_FIELDS, 1)}
        with self._unavailable_on_error("cannot read"):
            documents = list(self._database().notes.find(query, fields))
        times = {}
        for document in documents:
            known = [document[name] for name in FETCH_TIME_FIELDS if document.get(name)]
            if known:
                times[document["_id"]] = max(known)
        return times

    def claim(self, note_ids: Collection[str], lease: Lease) -> set[str]:
        return self._lease("claims", note_ids, lease, self._fetched_since)

    def claim_comments(self, note_ids: Collection[str], lease: Lease) -> set[str]:
        return self._lease("comment_claims", note_ids, lease, self._comments_fresh)

    def _lease(
        self, collection: str, note_ids: Collection[str], lease: Lease,
        fresh: Callable[[list[str], str], set[str]],
    ) -> set[str]:
        """Lease in *collection* those of *note_ids* under no live lease of
        another crawl and not *fresh* since ``lease.fresh_since``."""
        wanted = list(dict.fromkeys(note_ids))
        if not wanted:
            return set()
        others = all_of(
            {"_id": {"$in": wanted}}, {"expires_at": {"$gt": lease.now}},
            {"crawl_id": {"$ne": lease.crawl_id}},
        )
        with self._unavailable_on_error("cannot claim"):
            refused = {document["_id"] for document in self._database()[collection].find(others, {"_id": 1})}
        if lease.fresh_since is not None:
            refused |= fresh(wanted, lease.fresh_since)
        candidates = [note_id for note_id in wanted if note_id not in refused]
        return set(candidates) - self._take_leases(collection, candidates, lease)

    def _fetched_since(self, note_ids: list[str], since: str) -> set[str]:
        return {n for n, at in self.fetch_times(note_ids).items() if at >= since}

    def _comments_fresh(self, note_ids: list[str], since: str) -> set[str]:
        needed = pick_comment_targets(self._comment_rows({"_id": {"$in": note_ids}}), since, None, note_ids)
        return set(note_ids) - {target["note_id"] for target in needed}

    def _take_leases(self, collection: str, note_ids: list[str], lease: Lease) -> set[str]:
        """Lease *note_ids*; returns those another crawl leased meanwhile."""
        if not note_ids:
            return set()
        fields = {"crawl_id": lease.crawl_id, "run_id": lease.run_id, "expires_at": lease.expires_at}
        # Matches a free, expired or own lease; a live foreign one makes the
        # upsert collide with its _id, which is how the race is lost.
        requests = [
            UpdateOne(
                all_of({"_id": note_id}, {"$or": [
                    {"expires_at": {"$lte": lease.now}}, {"crawl_id": lease.crawl_id},
                ]}),
                {"$set": fields}, upsert=True,
            )
            for note_id in note_ids
        ]
        with self._unavailable_on_error("cannot claim"):
            try:
                self._database()[collection].bulk_write(requests, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(error.get("code") != DUPLICATE_KEY for error in errors):
                    raise
                return {note_ids[error["index"]] for error in errors}
        return set()

    def release(self, run_id: str) -> None:
        with self._unavailable_on_error("cannot release"):
            for collection in ("claims", "comment_claims"):
                self._database()[collection].delete_many({"run_id": run_id})

    def comment_targets(
        self, note_ids: Collection[str] | None, *, since: str | None, sources: Collection[str] | None,
        stale_before: str, limit: int | None,
    ) -> list[dict]:
        if note_ids is not None:
            given = list(dict.fromkeys(note_ids))
            return pick_comment_targets(self._comment_rows({"_id": {"$in": given}}), stale_before, limit, given)
        conditions: list[dict[str, Any]] = [{"status": "ok"}]
        if since is not None:
            conditions.append({"last_seen_at": {"$gte": since}})
        if sources is not None:
            conditions.append({"sources": {"$in": list(sources)}})
        return pick_comment_targets(self._comment_rows(all_of(*conditions)), stale_before, limit)

    def _comment_rows(self, query: dict[str, Any]) -> list[tuple[str, Any, str | None, Any]]:
        """(note id, comment counter, comments_fetched_at, comments_counter) of the notes of *query*."""
        fields = {"_id": 1, "counts": 1, "comments_fetched_at": 1, "comments_counter": 1}
        with self._unavailable_on_error("cannot read"):
            documents = list(self._database().notes.find(query, fields))
        return [
            (document["_id"], _comment_counter(document), document.get("comments_fetched_at"),
             document.get("comments_counter"))
            for document in documents
        ]

    def stored_comment_ids(self, note_id: str, comment_ids: Collection[str]) -> set[str]:
        if not comment_ids:
            return set()
        query = all_of({"_id": {"$in": list(dict.fromkeys(comment_ids))}}, {"note_id": note_id})
        with self._unavailable_on_error("cannot read"):
            return {document["_id"] for document in self._database().comments.find(query, {"_id": 1})}

    def unfetched_note_ids(self, channels: Collection[str] | None, limit: int | None) -> list[str]:
        return self._unfetched("channels", channels, limit)

    def unfetched_source_note_ids(self, sources: Collection[str] | None, limit: int | None) -> list[str]:
        return self._unfetched("sources", sources, limit)

    def _unfetched(self, field: str, wanted: Collection[str] | None, limit: int | None) -> list[str]:
        if limit == 0:
            return []
        conditions: list[dict[str, Any]] = [{"status": "seen"}]
        if wanted is not None:
            conditions.append({field: {"$in": list(wanted)}})
        oldest_first = [("first_seen_at", ASCENDING), ("_id", ASCENDING)]
        cursor = self._database().notes.find(all_of(*conditions), {"_id": 1}, sort=oldest_first)
        if limit is not None:
            cursor = cursor.limit(limit)
        with self._unavailable_on_error("cannot read"):
            return [document["_id"] for document in cursor]

    def feed_pages(self, crawl_id: str) -> list[dict]:
        by_page = [("channel", ASCENDING), ("page", ASCENDING)]
        with self._unavailable_on_error("cannot read"):
            cursor = self._database().feed_pages.find({"crawl_id": crawl_id}, sort=by_page)
            return [_without_id(document) for document in cursor]

    def source_pages(self, crawl_id: str) -> list[dict]:
        by_page = [(name, ASCENDING) for name in ("source_kind", "source_value", "page")]
        with self._unavailable_on_error("cannot read"):
            cursor = self._database().source_pages.find({"crawl_id": crawl_id}, sort=by_page)
            return [_without_id(document) for document in cursor]

    def creator_fetch_times(self, user_ids: Collection[str]) -> dict[str, str]:
        return self._lookup("creators", user_ids, "fetched_at")

    def share_links(self, urls: Collection[str]) -> dict[str, str]:
        return self._lookup("share_links", urls, "resolved_url")

    def _lookup(self, collection: str, keys: Collection[str], field: str) -> dict[str, str]:
        """*field* of the records of *collection* whose ``_id`` is one of *keys*."""
        if not keys:
            return {}
        query = {"_id": {"$in": list(dict.fromkeys(keys))}}
        with self._unavailable_on_error("cannot read"):
            documents = list(self._database()[collection].find(query, {"_id": 1, field: 1}))
        return {document["_id"]: document[field] for document in documents}

    def records(self, collection: str) -> list[dict]:
        order = [(name, ASCENDING) for name in check_records(collection)]
        with self._unavailable_on_error("cannot read"):
            return [_without_id(document) for document in self._database()[collection].find({}, sort=order)]

    def stale_note_ids(self, before: str, limit: int | None = None) -> list[str]:
        if limit == 0:
            return []  # pymongo reads limit 0 as "no limit"
        query = all_of({"status": "ok"}, {"detail_fetched_at": {"$lt": before}})
        oldest_first = [("detail_fetched_at", ASCENDING), ("_id", ASCENDING)]
        cursor = self._database().notes.find(query, {"_id": 1}, sort=oldest_first)
        if limit is not None:
            cursor = cursor.limit(limit)
        with self._unavailable_on_error("cannot read"):
            return [document["_id"] for document in cursor]

    def has_notes(self) -> bool:
        with self._unavailable_on_error("cannot read"):
            return self._database().notes.find_one({"status": "ok"}, {"_id": 1}) is not None

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
            raise StoreUnavailable(
                "%s %s: %s" % (what, self.display_uri, connection_problem(exc))
            ) from exc


def connection_problem(exc: ConnectionFailure) -> str:
    """Why pymongo reached no server, in a few words: ``127.0.0.1:9: Connection
    refused``, each server's error once (a replica set's separated by ``;``)."""
    errors = _WAITING_DETAILS.sub("", str(exc)).split(",")
    return "; ".join(dict.fromkeys(error.strip() for error in errors if error.strip())) or type(exc).__name__


def _comment_counter(document: dict) -> Any:
    counts = document.get("counts")
    return counts.get("comments") if isinstance(counts, dict) else None


def _note_record(document: dict) -> dict:
    record = _without_id(document)
    for name in COMMENT_FIELDS:
        record.setdefault(name, None)  # a note stored before comments were
    record["channels"] = sorted(record.get("channels") or [])
    record["sources"] = sorted(record.get("sources") or [])
    return record


def _without_id(document: dict) -> dict:
    document.pop("_id", None)
    return document
