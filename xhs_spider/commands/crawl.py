"""``scrapy crawl``, checking arguments and settings before it starts.

An unknown spider, a wrong ``oid`` or ``pages``, an ids file that is not
UTF-8, a CSV feed that would mix two item types, a bad setting, a missing
token, a store that does not answer or a path that cannot be written ends
here (:mod:`.preflight`) with one line and exit status 2: no crawl starts,
no API call is made, no traceback is shown. The check runs before Scrapy
starts its crawler process, so not even its start-up banner is printed. A crawl that ends for a reason
of the API or the store (``justoneapi_*``, ``xhs_*``) exits with status 1.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from xhs_spider.commands.preflight import problem_before_crawl
from xhs_spider.extensions.run_outcome import RunOutcome
from xhs_spider.pipelines.store import record_forced_shutdown
from xhs_spider.run.finish import EXIT_FAILED, EXIT_USAGE, FORCED_SHUTDOWN, failed

if TYPE_CHECKING:
    import argparse


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
        return problem_before_crawl(self.settings, spider_name, spargs)
