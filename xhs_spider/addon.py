"""Wires the project's components and defaults into any Scrapy crawl."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.misc import load_object

from xhs_spider.config import defaults
from xhs_spider.config.declarations import defaults as declared_defaults
from xhs_spider.config.environment import apply_environment
from xhs_spider.distributed.setup import apply_distributed

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


class XhsSpiderAddon:
    def update_settings(self, settings: BaseSettings) -> None:
        settings.setdict(declared_defaults(), priority="addon")
        settings.setdict(defaults.SCRAPY_SETTINGS, priority="addon")
        for setting, components in (
            ("DOWNLOADER_MIDDLEWARES", defaults.DOWNLOADER_MIDDLEWARES),
            ("ITEM_PIPELINES", defaults.ITEM_PIPELINES),
            ("EXTENSIONS", defaults.EXTENSIONS),
        ):
            for component, order in components.items():
                settings.setdefault_in_component_priority_dict(
                    setting, load_object(component), order
                )
        apply_environment(settings)
        apply_distributed(settings)
        _follow_concurrency(settings)


def _follow_concurrency(settings: BaseSettings) -> None:
    concurrency = settings.getint("CONCURRENT_REQUESTS")
    for name, factor in defaults.CONCURRENCY_FOLLOWERS.items():
        if (settings.getpriority(name) or 0) <= SETTINGS_PRIORITIES["addon"]:
            settings.set(name, concurrency * factor, priority="addon")
