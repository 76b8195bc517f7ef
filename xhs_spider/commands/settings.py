"""``scrapy settings --get NAME``: a setting as a crawl will use it.

Scrapy's own command prints ``settings.py`` and ``-s`` only, without the
add-ons that a crawl applies when it starts: 16 for ``CONCURRENT_REQUESTS``
where our add-on makes it 8, ``None`` for every setting of ours. This one
applies them first (see :mod:`xhs_spider.config.effective`), with the
environment overrides. The API token is never printed: a set token shows as
``***``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.settings import Command as ScrapySettingsCommand

from xhs_spider.config.declarations import TOKEN
from xhs_spider.config.effective import crawl_settings

if TYPE_CHECKING:
    import argparse

MASKED = "***"


class Command(ScrapySettingsCommand):
    def short_desc(self) -> str:
        return "Get settings values as a crawl uses them (add-on defaults applied)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        settings = crawl_settings(self.settings)
        if settings.get(TOKEN.name):
            settings.set(TOKEN.name, MASKED, priority=settings.maxpriority())
        self.settings = settings
        super().run(args, opts)
