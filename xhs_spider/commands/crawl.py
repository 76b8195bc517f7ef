"""``scrapy crawl``, checking arguments and settings before it starts.

A CSV feed of the ``feed`` spider (``-O notes.csv``) becomes two files,
notes and feed appearances (:mod:`xhs_spider.feeds`). An unknown spider, a
wrong ``oid`` or ``pages``, an ids file that is not UTF-8, a CSV feed that
would mix two item types (to standard output), a bad setting, a missing
token, a store that does not answer or a path that cannot be written ends
here (:mod:`.preflight`) with one line and exit status 2: no crawl starts,
no API call is made, no traceback is shown. The check runs before Scrapy
starts its crawler process, so not even its start-up banner is printed. A crawl that ends for a reason
of the API or the store (``justoneapi_*``, ``xhs_*``) exits with status 1
(:func:`xhs_spider.outcome.reasons.exit_status`).

``scrapy crawl SPIDER -h`` adds the spider's ``-a`` arguments to Scrapy's
help, with their defaults (:func:`.arguments.argument_lines`), and shows
the log level a crawl really runs at (``INFO``, the add-on's).
"""

from __future__ import annotations

import inspect
import logging
import sys
import textwrap
from typing import TYPE_CHECKING, NoReturn

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader

from xhs_spider.commands.preflight import problem_before_crawl, unknown_spider
from xhs_spider.config.effective import crawl_settings
from xhs_spider.feeds import feed_files, paired_feeds
from xhs_spider.outcome.extension import RunOutcome
from xhs_spider.outcome.reasons import EXIT_FAILED, EXIT_USAGE, FORCED_SHUTDOWN, exit_status
from xhs_spider.pipelines.store import record_forced_shutdown
from xhs_spider.spiders.arguments import DRY_RUN_HELP, argument_lines, mixes_item_types

if TYPE_CHECKING:
    import argparse

    from scrapy import Spider
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: Columns of the spider part of ``-h``, as argparse wraps the options above it.
HELP_WIDTH = 79


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        if mixes_item_types(args[0], opts.spargs):
            files = ", ".join(f"{what} to {uri}" for uri, what in feed_files(crawler.settings).items())
            if files:
                logger.info("Feeds: %(files)s (one CSV file holds one item type)", {"files": files})
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        outcome = crawler.get_extension(RunOutcome)
        if outcome is not None and outcome.stopped_before_closing:
            record_forced_shutdown(crawler)
            crawler.stats.set_value("finish_reason", FORCED_SHUTDOWN)
        reason = crawler.stats.get_value("finish_reason") or ""
        self.exitcode = EXIT_FAILED if self.crawler_process.bootstrap_failed else exit_status(reason)

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        assert self.settings is not None
        # Scrapy shows LOG_LEVEL's default in -h, and sets up logging, from the
        # settings as they are before a crawler applies the add-ons: DEBUG,
        # where ours makes it INFO, and the first lines of every crawl were
        # DEBUG lines. The level a crawl runs with, at the lowest priority
        # (settings.py, -s and -L stay above it).
        level = crawl_settings(self.settings)["LOG_LEVEL"]
        self.settings.set("LOG_LEVEL", level, priority="default")
        super().add_options(parser)
        # In place of argparse's -h, which prints and exits before the spider's
        # name is read: the spider's arguments are listed after the options.
        parser.add_argument("-h", "--help", action="store_true",
                            help="show this help, with the spider's -a arguments, and exit")
        self.parser = parser

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if opts.help:
            self._print_help(args)
        if len(args) == 1 and mixes_item_types(args[0], opts.spargs):
            assert self.settings is not None
            feeds = self.settings.getdict("FEEDS")
            self.settings.set("FEEDS", paired_feeds(feeds), priority=self.settings.getpriority("FEEDS") or 0)
        problem = self._preflight(args[0], opts.spargs) if len(args) == 1 else None
        if problem:
            print(f"Error: {problem}", file=sys.stderr)
            sys.exit(EXIT_USAGE)

    def _print_help(self, args: list[str]) -> NoReturn:
        assert self.settings is not None
        spidercls = None
        if len(args) == 1:
            loader = get_spider_loader(self.settings)
            try:
                spidercls = loader.load(args[0])
            except KeyError:
                print(f"Error: {unknown_spider(args[0], loader.list())}", file=sys.stderr)
                sys.exit(EXIT_USAGE)
        self.parser.print_help()
        if spidercls is not None:
            print(spider_help(spidercls, crawl_settings(self.settings, spidercls)))
        sys.exit(0)

    def _preflight(self, spider_name: str, spargs: dict[str, str]) -> str | None:
        assert self.settings is not None
        return problem_before_crawl(self.settings, spider_name, spargs)


def spider_help(spidercls: type[Spider], settings: BaseSettings) -> str:
    """What ``scrapy crawl SPIDER -h`` adds: the spider's purpose and arguments."""
    about = " ".join((inspect.getdoc(spidercls) or "").split())
    lines = ["", textwrap.fill(f"Spider {spidercls.name}: {about}", HELP_WIDTH),
             "", textwrap.fill(DRY_RUN_HELP, HELP_WIDTH)]
    parse_arguments = getattr(spidercls, "parse_arguments", None)
    if parse_arguments is not None:
        lines += ["", "Spider arguments (-a NAME=VALUE):",
                  *argument_lines(parse_arguments, settings, HELP_WIDTH)]
    return "\n".join(lines)
