"""``scrapy crawl-summary CRAWL_ID``: the figures of a whole crawl, all its runs added up.

A crawl shared by several workers (``XHS_CRAWL_ID``, docs/distributed.md) has
one ``runs`` record per worker, and a resumed crawl one per run: this reads
them from the store (``XHS_STORE_URI``) and prints their sum, or JSON with
``--json``. The outcome is the finish reason of the last run to end.

Exit status: 0 when the crawl finished; 1 when its outcome is a failure (a
finish reason such as justoneapi_budget_exhausted or shutdown, or none
recorded: killed, or still running), when it has no run in the store, or
when the store cannot be read; 2 for bad input (no crawl id, a malformed
XHS_STORE_URI).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from xhs_spider.commands.common import fail, store_settings
from xhs_spider.dataset.readers import STORE_ERRORS
from xhs_spider.run.crawl_summary import crawl_summary, format_crawl_summary
from xhs_spider.outcome.reasons import EXIT_FAILED, FINISHED
from xhs_spider.run.readable import plain_text
from xhs_spider.store.base import StoreUnavailable
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    import argparse


class CrawlSummaryCommand(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "CRAWL_ID"

    def short_desc(self) -> str:
        return "Sum up every run of one crawl (the workers of a shared crawl) from the store"

    def long_desc(self) -> str:
        return plain_text(__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            fail(self, "give one crawl id: scrapy crawl-summary CRAWL_ID")
            return
        assert self.settings is not None
        try:
            store = store_from_settings(store_settings(self.settings))
        except ValueError as exc:  # a malformed XHS_STORE_URI
            fail(self, str(exc)[:200])
            return
        try:
            with store:
                runs = store.find_runs()
        except StoreUnavailable as exc:
            fail(self, str(exc)[:200], EXIT_FAILED)
            return
        except STORE_ERRORS as exc:
            first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
            fail(self, f"cannot read {store.display_uri}: {first_line[:160]}", EXIT_FAILED)
            return
        summary = crawl_summary(args[0], runs)
        if not summary["runs"]:
            fail(self, f"no run of crawl {args[0]!r} in the store", EXIT_FAILED)
            return
        print(json.dumps(summary, ensure_ascii=False, indent=2) if opts.json
              else format_crawl_summary(summary))
        if summary["outcome"] != FINISHED:
            self.exitcode = EXIT_FAILED
