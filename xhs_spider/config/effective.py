"""The settings a crawl sees: the one function every command reads them through.

``settings.py`` holds few values: the defaults come from the add-ons of
``ADDONS`` (ours applies ``config/defaults.py``, the declarations, the
environment and distributed mode), which Scrapy runs only when a crawler
starts. The crawl command (its ``-h`` and its checks before the crawl),
``scrapy settings``, ``scrapy export``, ``scrapy report``, ``scrapy
replay-spill`` and ``scrapy crawl-summary`` all apply them here first, the
way ``Crawler`` does, so each sees the values the crawl would run with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import Spider
from scrapy.crawler import Crawler

if TYPE_CHECKING:
    from scrapy.settings import Settings


def crawl_settings(settings: Settings, spidercls: type[Spider] = Spider) -> Settings:
    """A copy of *settings* as a crawl of *spidercls* gets them: its
    ``custom_settings`` and every add-on applied, as ``Crawler`` does."""
    crawler = Crawler(spidercls, settings)  # works on a copy
    crawler.addons.load_settings(crawler.settings)
    return crawler.settings
