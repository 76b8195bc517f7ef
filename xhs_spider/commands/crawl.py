"""``scrapy crawl``, checking spider arguments and the token before starting.

A wrong ``oid`` or ``pages``, or a missing token, ends here with one line and
exit status 2: no crawl starts, no API call is made, no traceback is shown.
The check runs before Scrapy starts its crawler process, so not even its
start-up banner is printed.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader

from xhs_spider.environment import apply_environment
from xhs_spider.middlewares.token import MISSING_TOKEN_MESSAGE

if TYPE_CHECKING:
    import argparse

USAGE_ERROR = 2


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        problem = self._preflight(args[0], opts.spargs) if len(args) == 1 else None
        if problem:
            print(f"Error: {problem}", file=sys.stderr)
            sys.exit(USAGE_ERROR)

    def _preflight(self, spider_name: str, spargs: dict[str, str]) -> str | None:
        try:
            spidercls = get_spider_loader(self.settings).load(spider_name)
        except KeyError:
            return None  # Scrapy's own message for an unknown spider
        check = getattr(spidercls, "check_arguments", None)
        problem = check(**spargs) if check else None
        if problem:
            return problem
        settings = self.settings.copy()
        settings.setdict(spidercls.custom_settings or {}, priority="spider")
        apply_environment(settings)
        if not settings.get("JUSTONEAPI_TOKEN"):
            return MISSING_TOKEN_MESSAGE
        return None
