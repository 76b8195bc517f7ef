"""``scrapy crawl-summary [CRAWL_ID]``: the figures of a whole crawl, all its runs added up.

A crawl shared by several workers (``XHS_CRAWL_ID``, docs/distributed.md) has
one ``runs`` record per worker, and a resumed crawl one per run: this reads
them from the store (``XHS_STORE_URI``) and prints their sum, or JSON with
``--json``. The outcome is the finish reason of the last run to end. Without
CRAWL_ID it lists the crawls the store holds, the latest first (their ids,
runs and outcomes). It only reads: a store that is not there is never
created.

Exit status: 0 when the crawl finished (or for the list); 1 when its outcome
is a failure (a finish reason such as justoneapi_budget_exhausted or
shutdown, or none recorded: killed, or still running), when it has no run in
the store, or when the store cannot be read; 2 for bad input (more than one
crawl id, a malformed XHS_STORE_URI, a store that does not exist).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand

from xhs_spider.commands.common import fail
from xhs_spider.config.effective import crawl_settings
from xhs_spider.dataset.query import Query
from xhs_spider.dataset.readers import dataset_from_settings, opened
from xhs_spider.dataset.sqlite_reader import NoStore, StoreUnreadable
from xhs_spider.outcome.crawl_summary import (
    crawl_summary,
    format_crawl_summary,
    format_recent_crawls,
    recent_crawls,
)
from xhs_spider.outcome.reasons import EXIT_FAILED, FINISHED
from xhs_spider.run.readable import plain_text

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable


class CrawlSummaryCommand(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[CRAWL_ID]"

    def short_desc(self) -> str:
        return "Sum up every run of one crawl (the workers of a shared crawl) from the store"

    def long_desc(self) -> str:
        return plain_text(__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) > 1:
            fail(self, "give one crawl id: scrapy crawl-summary CRAWL_ID (none lists the crawls)")
            return
        assert self.settings is not None
        try:
            dataset = dataset_from_settings(crawl_settings(self.settings))
            with opened(dataset):
                runs = list(dataset.records(Query("runs")))
        except (ValueError, NoStore) as exc:  # a malformed XHS_STORE_URI, no store there
            fail(self, str(exc)[:200])
            return
        except StoreUnreadable as exc:
            fail(self, str(exc)[:200], EXIT_FAILED)
            return
        if not args:
            crawls = recent_crawls(runs)
            self._print(opts, crawls, lambda: format_recent_crawls(crawls, dataset.display_uri))
            return
        summary = crawl_summary(args[0], runs)
        if not summary["runs"]:
            fail(self, f"no run of crawl {args[0]!r} in the store", EXIT_FAILED)
            return
        self._print(opts, summary, lambda: format_crawl_summary(summary))
        if summary["outcome"] != FINISHED:
            self.exitcode = EXIT_FAILED

    @staticmethod
    def _print(opts: argparse.Namespace, figures: Any, text: Callable[[], str]) -> None:
        print(json.dumps(figures, ensure_ascii=False, indent=2) if opts.json else text())
