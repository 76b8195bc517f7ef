"""``scrapy crawl``, checking arguments and settings before it starts.

A wrong ``oid`` or ``pages``, a bad setting, or a missing token ends here
with one line and exit status 2: no crawl starts, no API call is made, no
traceback is shown. The check runs before Scrapy starts its crawler process,
so not even its start-up banner is printed. A crawl that ends for a reason
of the API or the store (``justoneapi_*``, ``xhs_*``) exits with status 1.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from xhs_spider.addon import XhsSpiderAddon
from xhs_spider.config.checks import first_problem
from xhs_spider.config.declarations import TOKEN
from xhs_spider.middlewares.token import MISSING_TOKEN_MESSAGE
from xhs_spider.extensions.run_outcome import RunOutcome
from xhs_spider.pipelines.store import StorePipeline, record_forced_shutdown
from xhs_spider.run.finish import EXIT_FAILED, EXIT_USAGE, FORCED_SHUTDOWN, failed
from xhs_spider.store.base import StoreUnavailable
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import BaseSettings


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        outcome = crawler.get_extension(RunOutcome)
        if outcome is not None and not outcome.closed_cleanly and crawler.engine is not None:
            # A second Ctrl-C or SIGTERM: the run did not close; never exit 0.
            record_forced_shutdown(crawler)
            crawler.stats.set_value("finish_reason", FORCED_SHUTDOWN)
        reason = crawler.stats.get_value("finish_reason") or ""
        if self.crawler_process.bootstrap_failed or failed(reason):
            # Cron and Scrapyd see a stopped token, quota or store as failure.
            self.exitcode = EXIT_FAILED

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        problem = self._preflight(args[0], opts.spargs) if len(args) == 1 else None
        if problem:
            print(f"Error: {problem}", file=sys.stderr)
            sys.exit(EXIT_USAGE)

    def _preflight(self, spider_name: str, spargs: dict[str, str]) -> str | None:
        assert self.settings is not None
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
        XhsSpiderAddon().update_settings(settings)
        if not TOKEN.get(settings):
            return MISSING_TOKEN_MESSAGE
        return first_problem(settings) or self._store_problem(settings)

    @staticmethod
    def _store_problem(settings: BaseSettings) -> str | None:
        """Whether the store answers, when StorePipeline is enabled."""
        pipelines = build_component_list(settings.get_component_priority_dict_with_base("ITEM_PIPELINES"))
        if StorePipeline not in map(load_object, pipelines):
            return None
        store = store_from_settings(settings)
        try:
            store.open()
        except StoreUnavailable as exc:
            return f"The store {store.display_uri} is unreachable ({str(exc)[:160]}). Check XHS_STORE_URI."
        store.close()
        return None
