"""The settings a crawl really runs with, for commands that show or check them.

``settings.py`` holds few values: the defaults come from the add-ons of
``ADDONS`` (ours applies ``config/defaults.py`` and the declarations), which
Scrapy runs only when a crawler starts. A command that prints or checks
settings applies them the same way first.
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
