"""``scrapy settings --get NAME``: a setting as a crawl will use it.

Scrapy's own command prints ``settings.py`` and ``-s`` only, without the
add-ons that a crawl applies when it starts: 16 for ``CONCURRENT_REQUESTS``
where our add-on makes it 8, ``None`` for every setting of ours. This one
applies them first (see :mod:`xhs_spider.config.effective`), with the
environment overrides. The API token is never printed: a set token shows as
``***``, and so does the password of every URL-valued setting
(``XHS_STORE_URI``, ``REDIS_URL``, ``JUSTONEAPI_BASE_URL``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.settings import Command as ScrapySettingsCommand

from xhs_spider.config.declarations import BASE_URL, REDIS_URL, STORE_URI, TOKEN
from xhs_spider.config.effective import crawl_settings
from xhs_spider.store.mongo_uri import masked_uri

if TYPE_CHECKING:
    import argparse

MASKED = "***"
#: Settings holding a URL, which may carry a password (user:password@host, ?password=).
URL_SETTINGS = (STORE_URI.name, REDIS_URL.name, BASE_URL.name)


class Command(ScrapySettingsCommand):
    def short_desc(self) -> str:
        return "Get settings values as a crawl uses them (add-on defaults applied)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        settings = crawl_settings(self.settings)
        top = settings.maxpriority()
        if settings.get(TOKEN.name):
            settings.set(TOKEN.name, MASKED, priority=top)
        for name in URL_SETTINGS:
            if settings.get(name):
                settings.set(name, masked_uri(str(settings[name])), priority=top)
        self.settings = settings
        super().run(args, opts)
