"""What ``scrapy crawl`` checks before anything starts, each problem as one line.

In order: the spider's name, its ``-a`` arguments (an ids file is read and
its encoding checked here), the feeds (``-o``/``-O``), the settings and the
token, the store answering, the paths the crawl will write to (its feed
files among them), and in distributed mode the shared crawl (:mod:`xhs_spider.distributed.preflight`). The first
problem found is returned; nothing here calls the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.spiderloader import get_spider_loader
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from xhs_spider.api.sources import did_you_mean
from xhs_spider.commands.checks import first_problem
from xhs_spider.config.declarations import SPILL_DIR, STATS_FILE, TOKEN
from xhs_spider.config.effective import crawl_settings
from xhs_spider.config.paths import directory_problem, file_problem
from xhs_spider.distributed.preflight import distributed_problem
from xhs_spider.feeds import local_feed_paths, mixed_csv_feeds
from xhs_spider.middlewares.token import MISSING_TOKEN_MESSAGE
from xhs_spider.pipelines.store import StorePipeline
from xhs_spider.spiders.arguments import mixes_item_types
from xhs_spider.store import spill
from xhs_spider.store.base import StoreUnavailable
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.settings import BaseSettings, Settings

FEEDS_RECIPE = (
    "-s FEEDS='{\"notes.csv\": {\"format\": \"csv\", \"item_classes\": [\"xhs_spider.items.NoteItem\"], "
    "\"overwrite\": true}, \"appearances.csv\": {\"format\": \"csv\", \"item_classes\": "
    "[\"xhs_spider.items.FeedAppearanceItem\"], \"overwrite\": true}}'"
)


def problem_before_crawl(settings: Settings, spider_name: str,
                         spargs: dict[str, str]) -> str | None:
    """The first reason not to start crawling *spider_name*, or ``None``."""
    loader = get_spider_loader(settings)
    try:
        spidercls = loader.load(spider_name)
    except KeyError:
        return unknown_spider(spider_name, loader.list())
    check = getattr(spidercls, "check_arguments", None)
    problem = (check(**spargs) if check else None) or mixed_csv_problem(spidercls, spargs, settings)
    if problem:
        return problem
    settings = crawl_settings(settings, spidercls)
    problem = first_problem(settings)
    if problem:
        return problem
    if not TOKEN.get(settings):
        return MISSING_TOKEN_MESSAGE
    return (store_problem(settings, spidercls, spargs) or paths_problem(settings)
            or distributed_problem(settings, spider_name, spargs))


def unknown_spider(name: str, names: list[str]) -> str:
    return f"Unknown spider {name!r}.{did_you_mean(name, names)} The spiders are: {', '.join(sorted(names))}."


def mixed_csv_problem(spidercls: type[Spider], spargs: dict[str, str],
                      settings: BaseSettings) -> str | None:
    """A CSV feed that would get two item classes and could not be made two
    files (:mod:`xhs_spider.feeds`: standard output, or the file beside it
    taken): its columns come from the first item, and the other class's items
    would be squeezed into them."""
    if not mixes_item_types(spidercls.name, spargs):
        return None
    for uri in mixed_csv_feeds(settings.getdict("FEEDS")):
        return (
            f"The CSV feed {uri!r} would mix notes and feed appearances, and one CSV "
            f"file holds one item type: write one file per type, e.g. {FEEDS_RECIPE} "
            "(or use .jsonl; see docs/exports.md)."
        )
    return None


def store_problem(settings: BaseSettings, spidercls: type[Spider] | None = None,
                  spargs: dict[str, str] | None = None) -> str | None:
    """Whether the store answers, when StorePipeline is enabled; and what the
    spider's own ``store_problem(store, **spargs)`` finds in it (or without
    it: ``None`` for the store), such as ``comments -a stored=true`` and an
    empty store."""
    asks = getattr(spidercls, "store_problem", None)
    if not store_enabled(settings):
        return None if asks is None else asks(None, **(spargs or {}))
    store = store_from_settings(settings)
    try:
        store.open()
    except StoreUnavailable as exc:
        # The store's message starts with what it tried: said once, here.
        reason = str(exc).removeprefix(f"cannot open {store.display_uri}: ").rstrip(".")
        return f"The store {store.display_uri} is unreachable: {reason}. Check XHS_STORE_URI."
    try:
        return None if asks is None else asks(store, **(spargs or {}))
    except StoreUnavailable as exc:
        return f"The store {store.display_uri} cannot be read: {exc}. Check XHS_STORE_URI."
    finally:
        store.close()


def paths_problem(settings: BaseSettings) -> str | None:
    """Whether the local feed files (both of a CSV pair), the stats file and
    the spill directory can be written."""
    for path in local_feed_paths(settings.getdict("FEEDS")):
        problem = file_problem("FEEDS", path)
        if problem:
            return problem
    stats_file = STATS_FILE.get(settings)
    problem = file_problem(STATS_FILE.name, stats_file) if stats_file else None
    if problem or not store_enabled(settings):
        return problem
    directory = spill.spill_directory(settings, store_from_settings(settings))
    return directory_problem(SPILL_DIR.name, directory)


def store_enabled(settings: BaseSettings) -> bool:
    pipelines = build_component_list(settings.get_component_priority_dict_with_base("ITEM_PIPELINES"))
    return StorePipeline in map(load_object, pipelines)
