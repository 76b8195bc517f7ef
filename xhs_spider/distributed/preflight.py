"""What ``scrapy crawl`` checks before a worker joins a shared crawl.

Each problem is one line (exit status 2, no API call): ``REDIS_URL`` without
``XHS_CRAWL_ID`` (workers must agree on the crawl they share, and an id made
up from the command would differ with the order of its options); ``JOBDIR``
too (the frontier has one owner: Redis); Redis not answering; and a store
that the machines cannot share. Each machine with workers registers its host
name and its store's kind in the crawl's namespace: a SQLite store (a file on
one machine) is refused once another machine has joined, and so is any store
on a machine joining a crawl whose first machine writes to SQLite. And a
worker whose spider or arguments differ from the crawl's first worker's
(:mod:`xhs_spider.distributed.command`).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import redis
from scrapy_redis.connection import get_redis_from_settings

from xhs_spider.config.declarations import CRAWL_ID, REDIS_URL
from xhs_spider.distributed import scripts
from xhs_spider.distributed.command import command_difference, command_record
from xhs_spider.distributed.keys import CrawlKeys
from xhs_spider.distributed.setup import distributed
from xhs_spider.store.sqlite import SqliteNoteStore
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

SQLITE = "sqlite"


def distributed_problem(settings: BaseSettings, spider_name: str,
                        spargs: dict[str, str]) -> str | None:
    """The first reason this worker cannot join its shared crawl, or ``None``."""
    if not distributed(settings):
        return None
    crawl_id = CRAWL_ID.get(settings)
    if crawl_id is None:
        return (f"REDIS_URL is set: set {CRAWL_ID.name} to name the shared crawl, the same on "
                "every worker (a new id starts a new crawl, the same id resumes it).")
    if settings.get("JOBDIR"):
        return ("JOBDIR and REDIS_URL together: a shared crawl keeps its queue in Redis, "
                "not in a JOBDIR; drop -s JOBDIR.")
    server = get_redis_from_settings(settings)
    try:
        server.ping()
        crawl_keys = CrawlKeys(crawl_id)
        return (_store_problem(server, crawl_keys, settings)
                or _command_problem(server, crawl_keys, command_record(spider_name, spargs)))
    except redis.RedisError as exc:
        return f"Redis at {_display(REDIS_URL.get(settings) or '')} does not answer ({str(exc)[:160]})."
    finally:
        server.close()


def _store_problem(server: redis.Redis, crawl_keys: CrawlKeys, settings: BaseSettings) -> str | None:
    here = socket.gethostname()
    kind = SQLITE if isinstance(store_from_settings(settings), SqliteNoteStore) else "shared"
    others = server.register_script(scripts.REGISTER_HOST)(keys=[crawl_keys.hosts], args=[here, kind])
    if others:
        return (f"The shared crawl {crawl_keys.crawl_id} has workers on other machines "
                f"({', '.join(sorted(_text(host) for host in others))}) and a SQLite store is one "
                "machine's file: give every worker the same XHS_STORE_URI=mongodb://…")
    return None


def _command_problem(server: redis.Redis, crawl_keys: CrawlKeys, mine: str) -> str | None:
    recorded = server.register_script(scripts.RECORD_COMMAND)(keys=[crawl_keys.command], args=[mine])
    difference = recorded and command_difference(_text(recorded), mine)
    if not difference:
        return None
    return (f"The shared crawl {crawl_keys.crawl_id} was started by another command: {difference}. "
            f"Every worker of a crawl runs the same command; give another one a new {CRAWL_ID.name}.")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _display(url: str) -> str:
    """*url* without its password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
