"""The note store in one SQLite file: the default, nothing to install."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from xhs_spider.store import sqlite_schema as sql
from xhs_spider.store.base import (
    Lease,
    NoteStore,
    StoreGone,
    StoreUnavailable,
    check_collection,
    check_records,
    pick_comment_targets,
    run_sort_key,
)
from xhs_spider.store.batch import WriteBatch
from xhs_spider.store.note_state import NoteState, note_states

#: Seconds to wait for another process's write lock (a reader exporting data).
BUSY_TIMEOUT = 10.0
#: SQLite allows 999 bound variables in old builds; stay well below.
IN_CHUNK_SIZE = 500

class SqliteNoteStore(NoteStore):
    """The store in the SQLite file at ``path``, in WAL mode, one connection.

    The connection is made in :meth:`open` and may be used from another
    thread than the one that opened it, one thread at a time.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.display_uri = "sqlite://%s" % self.path
        self._connection: sqlite3.Connection | None = None
        #: (device, inode) of the file opened, to notice it deleted or replaced.
        self._identity: tuple[int, int] | None = None

    def open(self) -> None:
        if self._connection is not None:
            return
        with _unavailable_on_error("cannot open %s" % self.display_uri, sqlite3.DatabaseError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are begun and ended explicitly.
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False,
            )
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                # In WAL mode, NORMAL loses no commit when the process dies, only
                # the last ones when the machine does; the run's journal, synced
                # every second, covers those. FULL would fsync every commit.
                connection.execute("PRAGMA synchronous = NORMAL")
                sql.migrate(connection)
            except BaseException:
                connection.close()
                raise
        self._connection = connection
        self._identity = self._file_identity()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def write(self, batch: WriteBatch) -> None:
        with self._transaction() as connection:
            connection.executemany(sql.UPSERT_APPEARANCE, sql.appearance_rows(batch))
            self._merge_notes(connection, batch)
            connection.executemany(sql.INSERT_METRIC, sql.metric_rows(batch))
            connection.executemany(sql.REPLACE_PAGE, sql.page_rows(batch))
            connection.executemany(sql.REPLACE_SOURCE_PAGE, sql.source_page_rows(batch))
            connection.executemany(sql.UPSERT_CREATOR, sql.creator_rows(batch))
            connection.executemany(sql.REPLACE_RAW_ANSWER, sql.raw_answer_rows(batch))
            connection.executemany(sql.UPSERT_SHARE_LINK, sql.share_link_rows(batch))
            connection.executemany(sql.UPSERT_COMMENT, sql.comment_rows(batch))
            connection.executemany(sql.INSERT_COMMENT_METRIC, sql.comment_metric_rows(batch))
            self._merge_runs(connection, batch.runs)

    def _merge_notes(self, connection: sqlite3.Connection, batch: WriteBatch) -> None:
        states = note_states(batch)
        # Without a detail in the batch the stored detail stays as it is: it
        # is neither read nor written again (most of a note's operations:
        # every place it is seen, its comment pagings).
        bare = {note_id for note_id, state in states.items() if state.detail is None}
        updated = []
        for stored in self._stored_states(connection, [n for n in states if n not in bare]):
            stored.merge(states[stored.note_id])
            states[stored.note_id] = stored
        for stored in self._stored_states(connection, list(bare), sql.NOTE_COLUMNS_BUT_DETAIL):
            stored.merge(states.pop(stored.note_id))
            updated.append(stored)
        connection.executemany(sql.UPDATE_NOTE_BUT_DETAIL, map(sql.note_row_but_detail, updated))
        connection.executemany(sql.REPLACE_NOTE, (sql.note_row(state) for state in states.values()))

    def _stored_states(
        self, connection: sqlite3.Connection, note_ids: Sequence[str], columns: str = sql.NOTE_COLUMNS,
    ) -> Iterator[NoteState]:
        for chunk in _chunks(note_ids):
            query = "SELECT %s FROM notes WHERE note_id IN (%s)" % (columns, _placeholders(chunk))
            for row in connection.execute(query, chunk):
                yield sql.note_state(row)

    def _merge_runs(self, connection: sqlite3.Connection, runs: list[dict]) -> None:
        if not runs:
            return
        run_ids = list({run["run_id"] for run in runs})
        merged: dict[str, dict] = {}
        for chunk in _chunks(run_ids):
            query = "SELECT run_id, record FROM runs WHERE run_id IN (%s)" % _placeholders(chunk)
            for run_id, record in connection.execute(query, chunk):
                merged[run_id] = json.loads(record)
        for run in runs:
            merged.setdefault(run["run_id"], {}).update(run)
        connection.executemany(sql.REPLACE_RUN, [(run_id, sql.to_json(record)) for run_id, record in merged.items()])

    def fetch_times(self, note_ids: Collection[str]) -> dict[str, str]:
        with self._reading() as connection:
            return self._fetch_times(connection, list(note_ids))

    @staticmethod
    def _fetch_times(connection: sqlite3.Connection, note_ids: Sequence[str]) -> dict[str, str]:
        times: dict[str, str] = {}
        for chunk in _chunks(note_ids):
            query = "SELECT note_id, %s FROM notes WHERE note_id IN (%s)" % (
                sql.FETCHED_AT, _placeholders(chunk),
            )
            times.update((note_id, at) for note_id, at in connection.execute(query, chunk) if at)
        return times

    def claim(self, note_ids: Collection[str], lease: Lease) -> set[str]:
        return self._lease("claims", note_ids, lease, self._fetched_since)

    def claim_comments(self, note_ids: Collection[str], lease: Lease) -> set[str]:
        return self._lease("comment_claims", note_ids, lease, self._comments_fresh)

    def _lease(
        self, table: str, note_ids: Collection[str], lease: Lease,
        fresh: Callable[[sqlite3.Connection, Sequence[str], str], set[str]],
    ) -> set[str]:
        """Lease in *table* those of *note_ids* under no live lease of another
        crawl and not *fresh* since ``lease.fresh_since``, in one transaction."""
        wanted = list(dict.fromkeys(note_ids))
        with self._transaction() as connection:
            refused = self._leased_by_others(connection, table, wanted, lease)
            if lease.fresh_since is not None:
                refused |= fresh(connection, wanted, lease.fresh_since)
            granted = [note_id for note_id in wanted if note_id not in refused]
            connection.executemany(sql.REPLACE_CLAIM % table, (
                (note_id, lease.crawl_id, lease.run_id, lease.expires_at) for note_id in granted
            ))
        return set(granted)

    def _fetched_since(self, connection: sqlite3.Connection, note_ids: Sequence[str], since: str) -> set[str]:
        return {n for n, at in self._fetch_times(connection, note_ids).items() if at >= since}

    def _comments_fresh(self, connection: sqlite3.Connection, note_ids: Sequence[str], since: str) -> set[str]:
        needed = pick_comment_targets(self._comment_rows(connection, note_ids), since, None, list(note_ids))
        return set(note_ids) - {target["note_id"] for target in needed}

    @staticmethod
    def _leased_by_others(
        connection: sqlite3.Connection, table: str, note_ids: Sequence[str], lease: Lease,
    ) -> set[str]:
        refused: set[str] = set()
        for chunk in _chunks(note_ids):
            query = (
                "SELECT note_id FROM %s WHERE note_id IN (%s) AND expires_at > ?"
                " AND crawl_id != ?" % (table, _placeholders(chunk))
            )
            rows = connection.execute(query, [*chunk, lease.now, lease.crawl_id])
            refused.update(row[0] for row in rows)
        return refused

    def release(self, run_id: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM claims WHERE run_id = ?", (run_id,))
            connection.execute("DELETE FROM comment_claims WHERE run_id = ?", (run_id,))

    def comment_targets(
        self, note_ids: Collection[str] | None, *, since: str | None, sources: Collection[str] | None,
        stale_before: str, limit: int | None,
    ) -> list[dict]:
        with self._reading() as connection:
            if note_ids is not None:
                given = list(dict.fromkeys(note_ids))
                return pick_comment_targets(self._comment_rows(connection, given), stale_before, limit, given)
            query = "SELECT %s, sources FROM notes WHERE status = 'ok'" % sql.COMMENT_TARGET_COLUMNS
            arguments: list[str] = []
            if since is not None:
                query += " AND last_seen_at >= ?"
                arguments.append(since)
            among = None if sources is None else set(sources)
            rows = [row[:4] for row in connection.execute(query, arguments)
                    if among is None or among.intersection(json.loads(row[4] or "[]"))]
        return pick_comment_targets(rows, stale_before, limit)

    @staticmethod
    def _comment_rows(connection: sqlite3.Connection, note_ids: Sequence[str]) -> Iterator[tuple]:
        for chunk in _chunks(note_ids):
            query = "SELECT %s FROM notes WHERE note_id IN (%s)" % (
                sql.COMMENT_TARGET_COLUMNS, _placeholders(chunk),
            )
            yield from connection.execute(query, chunk)

    def stored_comment_ids(self, note_id: str, comment_ids: Collection[str]) -> set[str]:
        found: set[str] = set()
        with self._reading() as connection:
            for chunk in _chunks(list(dict.fromkeys(comment_ids))):
                query = "SELECT comment_id FROM comments WHERE note_id = ? AND comment_id IN (%s)" % (
                    _placeholders(chunk))
                found.update(row[0] for row in connection.execute(query, [note_id, *chunk]))
        return found

    def unfetched_note_ids(self, channels: Collection[str] | None, limit: int | None) -> list[str]:
        return self._unfetched("channels", channels, limit)

    def unfetched_source_note_ids(self, sources: Collection[str] | None, limit: int | None) -> list[str]:
        return self._unfetched("sources", sources, limit)

    def _unfetched(self, column: str, wanted: Collection[str] | None, limit: int | None) -> list[str]:
        """Notes never fetched whose *column* (a JSON array) holds one of *wanted*."""
        query = (
            "SELECT note_id, %s FROM notes WHERE status = 'seen'"
            " ORDER BY first_seen_at, note_id" % column
        )
        among = None if wanted is None else set(wanted)
        found: list[str] = []
        with self._reading() as connection:
            for note_id, seen_in in connection.execute(query):
                if among is None or among.intersection(json.loads(seen_in or "[]")):
                    found.append(note_id)
                    if limit is not None and len(found) >= limit:
                        break
        return found

    def feed_pages(self, crawl_id: str) -> list[dict]:
        query = "SELECT record FROM feed_pages WHERE crawl_id = ? ORDER BY channel, page"
        with self._reading() as connection:
            return [json.loads(row[0]) for row in connection.execute(query, (crawl_id,))]

    def source_pages(self, crawl_id: str) -> list[dict]:
        query = (
            "SELECT record FROM source_pages WHERE crawl_id = ?"
            " ORDER BY source_kind, source_value, page"
        )
        with self._reading() as connection:
            return [json.loads(row[0]) for row in connection.execute(query, (crawl_id,))]

    def creator_fetch_times(self, user_ids: Collection[str]) -> dict[str, str]:
        return self._lookup("SELECT user_id, fetched_at FROM creators WHERE user_id IN (%s)", user_ids)

    def share_links(self, urls: Collection[str]) -> dict[str, str]:
        return self._lookup("SELECT url, resolved_url FROM share_links WHERE url IN (%s)", urls)

    def _lookup(self, query: str, keys: Collection[str]) -> dict[str, str]:
        """Rows of *query* (its %s: the keys' marks) as {key: value}."""
        found: dict[str, str] = {}
        with self._reading() as connection:
            for chunk in _chunks(list(dict.fromkeys(keys))):
                found.update(connection.execute(query % _placeholders(chunk), chunk).fetchall())
        return found

    def records(self, collection: str) -> list[dict]:
        order = check_records(collection)
        if collection == "share_links":
            select = "SELECT json_object('url', url, 'resolved_url', resolved_url, 'at', at)"
        else:
            select = "SELECT record"
        query = "%s FROM %s ORDER BY %s" % (select, collection, ", ".join(order))
        with self._reading() as connection:
            return [json.loads(row[0]) for row in connection.execute(query)]

    def stale_note_ids(self, before: str, limit: int | None = None) -> list[str]:
        query = (
            "SELECT note_id FROM notes WHERE status = 'ok' AND detail_fetched_at < ?"
            " ORDER BY detail_fetched_at, note_id LIMIT ?"
        )
        with self._reading() as connection:
            rows = connection.execute(query, (before, -1 if limit is None else limit)).fetchall()
        return [row[0] for row in rows]

    def has_notes(self) -> bool:
        with self._reading() as connection:
            return connection.execute("SELECT 1 FROM notes WHERE status = 'ok' LIMIT 1").fetchone() is not None

    def get_note(self, note_id: str) -> dict | None:
        with self._reading() as connection:
            query = "SELECT %s FROM notes WHERE note_id = ?" % sql.NOTE_COLUMNS
            row = connection.execute(query, (note_id,)).fetchone()
        return None if row is None else sql.note_state(row).to_record()

    def iter_notes(self) -> Iterator[dict]:
        with self._reading() as connection:
            for row in connection.execute("SELECT %s FROM notes ORDER BY note_id" % sql.NOTE_COLUMNS):
                yield sql.note_state(row).to_record()

    def count(self, collection: str) -> int:
        check_collection(collection)
        with self._reading() as connection:
            return connection.execute("SELECT count(*) FROM %s" % collection).fetchone()[0]

    def find_runs(self) -> list[dict]:
        with self._reading() as connection:
            records = [json.loads(row[0]) for row in connection.execute("SELECT record FROM runs")]
        return sorted(records, key=run_sort_key)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with _unavailable_on_error("cannot read %s" % self.display_uri):
            yield self._require_connection()

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return None
        return status.st_dev, status.st_ino

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._require_connection()
        if self._file_identity() != self._identity:
            # Writing on would go into a deleted file, and be lost with it.
            raise StoreGone("%s was deleted or replaced since it was opened" % self.display_uri)
        with _unavailable_on_error("cannot write %s" % self.display_uri):
            # IMMEDIATE: take the write lock before reading the records to merge.
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.rollback()
                raise
            connection.execute("COMMIT")

    def _require_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("%r is not open" % self)
        return self._connection


@contextmanager
def _unavailable_on_error(
    what: str, errors: type[Exception] = sqlite3.OperationalError,
) -> Iterator[None]:
    # OperationalError covers a locked, unreadable, full or vanished file:
    # conditions a later retry, or a spill file, can outlast. At open, any
    # DatabaseError: a file whose body is not a database is no store either.
    try:
        yield
    except (errors, OSError) as exc:
        raise StoreUnavailable("%s: %s" % (what, exc)) from exc


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    return (values[start:start + IN_CHUNK_SIZE] for start in range(0, len(values), IN_CHUNK_SIZE))


def _placeholders(values: Sequence[str]) -> str:
    return ", ".join("?" * len(values))
