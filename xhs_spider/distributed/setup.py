"""Switches a shared crawl (``REDIS_URL`` and ``XHS_CRAWL_ID``) to the shared queue.

The one place that turns distributed mode on: scrapy-redis's scheduler (our
:class:`~xhs_spider.distributed.scheduler.SharedScheduler`) and dupefilter,
a queue that outlives the workers (``SCHEDULER_PERSIST``), every key under
the crawl's namespace, the worker extension and the spider middleware that
reports what is done. Requests cross Redis as JSON data (:mod:`.serializer`),
never pickle; scrapy-redis's clients get the connection policy of
:mod:`.connection` (``REDIS_PARAMS``: the scheduler's calls block the reactor
thread, so short timeouts, not its 30 s ones). The default SQLite store (``data/xhs.sqlite3``) is resolved
against the working directory here, once, so that every component, the
check of the crawl's store and the log name the same absolute file.
scrapy-redis predates Scrapy 2.16; its deprecation
warnings, which are about its code and not the user's, are kept out of the
log by module, so ours still show.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.utils.misc import load_object

from xhs_spider.api.client import is_loopback
from xhs_spider.config.declarations import DEFAULT_STORE_PATH, REDIS_URL, STORE_URI, shared_crawl
from xhs_spider.distributed.connection import redis_params
from xhs_spider.distributed.keys import CrawlKeys

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: Warnings attributed to scrapy-redis's own modules.
SCRAPY_REDIS_MODULES = r"scrapy_redis(\..*)?$"

COMPONENTS = (
    ("EXTENSIONS", "xhs_spider.distributed.worker.SharedCrawlWorker", 500),
    # process_spider_output runs from the highest order to the lowest: the
    # lowest, below Scrapy's own (25 and up), sees the callback's final output,
    # after any middleware that drops or adds to it.
    ("SPIDER_MIDDLEWARES", "xhs_spider.distributed.acks.InHandRelease", 10),
)


def apply_distributed(settings: BaseSettings) -> None:
    try:
        crawl_id = shared_crawl(settings)
    except ValueError:
        return  # the crawl command refuses it with one line
    if crawl_id is None:
        return  # REDIS_URL alone: the crawl command asks for XHS_CRAWL_ID
    quiet_scrapy_redis()
    crawl_keys = CrawlKeys(crawl_id)
    settings.setdict({
        "SCHEDULER": "xhs_spider.distributed.scheduler.SharedScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_SERIALIZER": "xhs_spider.distributed.serializer",
        "SCHEDULER_QUEUE_KEY": crawl_keys.requests,
        "SCHEDULER_DUPEFILTER_KEY": crawl_keys.dupefilter,
        "REDIS_PARAMS": redis_params(),
    }, priority="addon")
    for setting, component, order in COMPONENTS:
        settings.setdefault_in_component_priority_dict(setting, load_object(component), order)
    if STORE_URI.get(settings) is None:
        resolved = Path(DEFAULT_STORE_PATH).resolve()
        settings.set(STORE_URI.name, f"sqlite://{resolved}", priority="addon")


def redis_url_warning(settings: BaseSettings) -> str | None:
    """A warning when ``REDIS_URL`` leads off this machine without a password."""
    parts = urlsplit(REDIS_URL.get(settings) or "")
    if (parts.scheme == "unix" or parts.password or "password" in parse_qs(parts.query)
            or is_loopback(parts.hostname or "")):
        return None
    where = f"{parts.hostname}:{parts.port or 6379}"
    return (f"REDIS_URL names {where} without a password: whoever reaches it can read and "
            "change this crawl's queue. Give Redis a password (requirepass) and use "
            f"REDIS_URL=redis://:PASSWORD@{where}/0, or rediss://:PASSWORD@{where}/0 for TLS.")


def quiet_scrapy_redis() -> None:
    for category in (ScrapyDeprecationWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=SCRAPY_REDIS_MODULES)
