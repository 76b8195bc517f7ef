"""What ``scrapy crawl`` checks before a worker joins a shared crawl.

Each problem is one line (exit status 2, no API call): ``REDIS_URL`` without
``XHS_CRAWL_ID`` (workers must agree on the crawl they share, and an id made
up from the command would differ with the order of its options); ``JOBDIR``
too (the frontier has one owner: Redis); Redis not answering; and a store
that the machines cannot share. Each machine with workers registers its host
name and its store's kind in the crawl's namespace: a SQLite store (a file on
one machine) is refused once another machine has joined, and so is any store
on a machine joining a crawl whose first machine writes to SQLite. The
first worker also records which store the crawl writes to (the absolute
SQLite path and its host, or the MongoDB hosts and database; never
credentials): a worker with another store is refused, naming both. And a
worker whose spider or arguments differ from the crawl's first worker's
(:mod:`xhs_spider.distributed.command`). A crawl finished (its queue drained,
seeded to the end) is not joined again: a scheduled job with a fixed
``XHS_CRAWL_ID`` would otherwise make no call and end ``finished``.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import redis

from xhs_spider.config.declarations import CRAWL_ID, REDIS_URL, shared_crawl
from xhs_spider.distributed import scripts
from xhs_spider.distributed.command import command_difference, command_record
from xhs_spider.distributed.connection import sync_redis
from xhs_spider.distributed.keys import CrawlKeys
from xhs_spider.store.mongo import MongoNoteStore
from xhs_spider.store.sqlite import SqliteNoteStore
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from xhs_spider.store.base import NoteStore

SQLITE = "sqlite"


def distributed_problem(settings: BaseSettings, spider_name: str,
                        spargs: dict[str, str]) -> str | None:
    """The first reason this worker cannot join its shared crawl, or ``None``."""
    if not REDIS_URL.get(settings):
        return None
    crawl_id = shared_crawl(settings)
    if crawl_id is None:  # asked for, not named
        return (f"REDIS_URL is set: set {CRAWL_ID.name} to name the shared crawl, the same on "
                "every worker (a new id starts a new crawl, the same id resumes it).")
    if settings.get("JOBDIR"):
        return ("JOBDIR and REDIS_URL together: a shared crawl keeps its queue in Redis, "
                "not in a JOBDIR; drop -s JOBDIR.")
    server = sync_redis(settings)
    try:
        server.ping()
        crawl_keys = CrawlKeys(crawl_id)
        return (_finished_problem(server, crawl_keys, settings)
                or _store_problem(server, crawl_keys, settings)
                or _command_problem(server, crawl_keys, command_record(spider_name, spargs)))
    except redis.RedisError as exc:
        return f"Redis at {_display(REDIS_URL.get(settings) or '')} does not answer ({str(exc)[:160]})."
    finally:
        server.close()


def _finished_problem(server: redis.Redis, crawl_keys: CrawlKeys,
                      settings: BaseSettings) -> str | None:
    finished = server.get(crawl_keys.finished)
    if finished is None:
        return None
    given = str(settings.get(CRAWL_ID.name)).strip()
    if "{hour}" in given:
        instead = ""
    elif "{date}" in given:
        instead = (f", or {CRAWL_ID.name}={given.replace('{date}', '{hour}')} "
                   "(a new crawl each UTC hour, see docs/distributed.md)")
    else:
        instead = f", or {CRAWL_ID.name}={given}-{{date}} (a new crawl each UTC day, see docs/distributed.md)"
    return (f"crawl {crawl_keys.crawl_id} finished at {_text(finished)}; use a new "
            f"{CRAWL_ID.name}{instead}.")


def _store_problem(server: redis.Redis, crawl_keys: CrawlKeys, settings: BaseSettings) -> str | None:
    here = socket.gethostname()
    store = store_from_settings(settings)
    kind = SQLITE if isinstance(store, SqliteNoteStore) else "shared"
    refused = server.register_script(scripts.REGISTER_HOST)(
        keys=[crawl_keys.hosts, crawl_keys.store], args=[here, kind, store_identity(store, here)])
    if not refused:
        return None
    why, *rest = (_text(value) for value in refused)
    if why == "store":
        return (f"The shared crawl {crawl_keys.crawl_id} writes to {rest[0]}, this worker to "
                f"{store_identity(store, here)}: every worker of a crawl writes to its one store "
                "(set the same XHS_STORE_URI), or give this one a new XHS_CRAWL_ID.")
    return (f"The shared crawl {crawl_keys.crawl_id} has workers on other machines "
            f"({', '.join(sorted(rest))}) and a SQLite store is one "
            "machine's file: give every worker the same XHS_STORE_URI=mongodb://…")


def store_identity(store: NoteStore, host: str) -> str:
    """Which store *store* is, without credentials: the same for every worker writing to it."""
    if isinstance(store, MongoNoteStore):
        # display_uri is masked; only its hosts and the database are kept.
        hosts = store.display_uri.split("://", 1)[-1].rpartition("@")[2]
        hosts = hosts.split("/", 1)[0].split("?", 1)[0].lower()
        srv = store.display_uri.lower().startswith("mongodb+srv:")
        named = sorted(host if srv or _has_port(host) else f"{host}:27017" for host in hosts.split(","))
        return f"the MongoDB database {store.database_name} on {','.join(named)}"
    assert isinstance(store, SqliteNoteStore)
    return f"the SQLite file {Path(store.path).resolve()} on {host}"


def _command_problem(server: redis.Redis, crawl_keys: CrawlKeys, mine: str) -> str | None:
    recorded = server.register_script(scripts.RECORD_COMMAND)(keys=[crawl_keys.command], args=[mine])
    difference = recorded and command_difference(_text(recorded), mine)
    if not difference:
        return None
    return (f"The shared crawl {crawl_keys.crawl_id} was started by another command: {difference}. "
            f"Every worker of a crawl runs the same command; give another one a new {CRAWL_ID.name}.")


def _has_port(host: str) -> bool:
    return "]:" in host if host.startswith("[") else ":" in host


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _display(url: str) -> str:
    """*url* without its password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
