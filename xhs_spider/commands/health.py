"""``scrapy health``: the dead-man check a cron job or an uptime monitor calls.

It reads the store's ``runs`` records (``XHS_STORE_URI``) and judges the
last finished run of each spider (only ``--spider``'s, only the runs of
``--crawl-id``): it must have a good outcome, have finished within
``--max-age``, and pass the checks the monitors run at close (item count
against the earlier runs of the same spider and arguments, give-ups and
302s, billed calls per stored note; see docs/monitoring.md). It only reads.

Exit status: 0 when every spider judged is healthy (nothing printed but
``--json``); 1 with one line per problem (a failed or missing run, one too
old, a failed check), or when the store cannot be read; 2 for bad input
(a malformed ``--max-age`` or ``XHS_STORE_URI``, a store that does not exist).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from xhs_spider.commands.common import fail
from xhs_spider.config.effective import crawl_settings
from xhs_spider.dataset.query import Query
from xhs_spider.dataset.readers import dataset_from_settings, opened
from xhs_spider.dataset.sqlite_reader import NoStore, StoreUnreadable
from xhs_spider.monitoring.checks import Limits, health_problems, parse_max_age
from xhs_spider.outcome.reasons import EXIT_FAILED
from xhs_spider.run.readable import plain_text

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def short_desc(self) -> str:
        return "Exit 0 if the last run of each spider finished well within --max-age, else 1"

    def long_desc(self) -> str:
        return plain_text(__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--max-age", default="1d", metavar="SPAN",
                            help="the last good run must have finished within this span: "
                                 "30m, 2h, 1d (default: 1d)")
        parser.add_argument("--spider", help="judge only this spider's runs")
        parser.add_argument("--crawl-id", help="judge only the runs of this crawl")
        parser.add_argument("--json", action="store_true",
                            help='print {"healthy": …, "problems": […]} as JSON')

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            fail(self, "scrapy health takes no arguments: use --spider or --crawl-id")
            return
        assert self.settings is not None
        try:
            max_age = parse_max_age(opts.max_age)
            settings = crawl_settings(self.settings)
            limits = Limits.from_settings(settings)
            dataset = dataset_from_settings(settings)
            with opened(dataset):
                runs = list(dataset.records(Query("runs")))
        except (ValueError, NoStore) as exc:  # bad --max-age, XHS_STORE_URI or limit; no store
            fail(self, str(exc)[:200])
            return
        except StoreUnreadable as exc:
            fail(self, str(exc)[:200], EXIT_FAILED)
            return
        problems = health_problems(runs, max_age=max_age, limits=limits,
                                   spider=opts.spider, crawl_id=opts.crawl_id)
        if opts.json:
            print(json.dumps({"healthy": not problems, "problems": problems}, ensure_ascii=False))
        else:
            for line in problems:
                print(line)
        if problems:
            self.exitcode = EXIT_FAILED
