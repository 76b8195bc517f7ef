"""``scrapy report -o FILE.html``: what the crawl found, as one HTML file.

A summary first (channels, other sources, notes, billed calls, the last
run and its outcome) and the contents; then per source (a channel, a
keyword, a creator, a topic), collapsed, the top notes by likes and the
rising ones, with their likes over time; appearances per source per day;
the comments; the runs (billed calls, notes per billed call, finish
reasons, give-ups). One self-contained file: charts are inline SVG, no two
series of one in the same colour, the style is inline, there is no script. It is written under a temporary name
of its own beside FILE and renamed when complete. ``--source keyword:咖啡``
(or ``user:ID``, ``topic:ID``, ``channel:OID``; repeatable) and ``--channel
OID`` keep those sources. A file that cannot be written there, a
``--since`` out of range or an unknown ``--source`` or ``--channel`` is one
line, exit status 2, before the store is read.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from xhs_spider.commands.common import fail, replaced_atomically
from xhs_spider.commands.export import add_filter_options, query_from_options
from xhs_spider.config.effective import crawl_settings
from xhs_spider.dataset.query import iso_utc
from xhs_spider.dataset.readers import dataset_from_settings, opened
from xhs_spider.dataset.sqlite_reader import NoStore, StoreUnreadable
from xhs_spider.outcome.reasons import EXIT_FAILED
from xhs_spider.run.readable import plain_text

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import BaseSettings

DEFAULT_SINCE = "30d"
MISSING = "scrapy report needs matplotlib, an optional dependency: pip install 'xhs-spider[report]'"


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "-o FILE.html [--since 30d] [--source KIND:VALUE ...] [--channel OID ...]"

    def short_desc(self) -> str:
        return "Write an HTML report with charts of the store's dataset (XHS_STORE_URI)"

    def long_desc(self) -> str:
        return plain_text(__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_filter_options(parser, default_since=DEFAULT_SINCE)
        parser.add_argument("-o", "--output", metavar="FILE.html", help="the file to write (required)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        try:
            path = self._output(args, opts)
            query = query_from_options("appearances", opts)
        except ValueError as exc:
            fail(self, str(exc))
            return
        if not matplotlib_available():
            fail(self, MISSING)
            return
        assert query.since is not None
        try:
            store = write_report(crawl_settings(self.settings), query.since, query.sources, path)
        except (ValueError, NoStore) as exc:
            fail(self, str(exc))
            return
        except (StoreUnreadable, OSError) as exc:  # not bad input: the same command may work later
            fail(self, str(exc), EXIT_FAILED)
            return
        print("Report of %s since %s written to %s" % (store, query.since, path))

    @staticmethod
    def _output(args: list[str], opts: argparse.Namespace) -> Path:
        if args:
            raise ValueError("unexpected argument %r; the file goes after -o" % args[0])
        if not opts.output or Path(opts.output).suffix.lower() not in (".html", ".htm"):
            raise ValueError("name the HTML file to write with -o FILE.html")
        return Path(opts.output)


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def write_report(
    settings: BaseSettings, since: str, sources: frozenset[tuple[str, str]] | None, path: Path,
) -> str:
    """Compute, draw and write the report; the store's URI, safe to print."""
    from xhs_spider.report.figures import compute
    from xhs_spider.report.page import render

    dataset = dataset_from_settings(settings)
    with replaced_atomically(path) as partial:
        with opened(dataset):
            figures = compute(dataset, since, sources)
        html = render(figures, store=dataset.display_uri, generated_at=iso_utc(datetime.now(timezone.utc)))
        partial.write_text(html, encoding="utf-8")
    return dataset.display_uri
