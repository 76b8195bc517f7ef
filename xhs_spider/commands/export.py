"""``scrapy export COLLECTION -o FILE``: the dataset from the store, to a file.

Feed exports (``-o`` on a crawl) hold what one run fetched; this command
writes what the store holds, whatever was fetched when: ``notes`` (the latest
state of each note), ``appearances`` (where each note was found when: which
channel recommended it, which keyword's search, creator's or topic's notes
listed it), ``metrics`` (the engagement history), ``runs``, ``creators``
(the creators' newest profiles), ``comments`` (one row per comment or
reply: its note id, parent id and level; the newest state of each) or
``comment_metrics`` (the comments' likes over time). ``--source
keyword:咖啡`` (or ``user:ID``, ``topic:ID``, ``channel:OID``; repeatable)
keeps what concerns those sources (comments: those of the notes found under
them); ``--channel OID`` is ``--source channel:OID``. FILE's extension
picks the format (.csv, .jsonl, .json, .parquet); the file is written under a
temporary name of its own beside it and renamed when complete, so two
exports into one file at once both write whole files, and the last one wins.
A file that cannot be written there, a ``--since`` out of range or an
unknown ``--source``, ``--channel`` or ``--status`` is one line, exit status
2, before the store is read. CSV cells that a spreadsheet would run as
formulas get a leading ' (XHS_CSV_RAW_TEXT keeps them raw).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from xhs_spider.api.channels import parse_channels
from xhs_spider.commands.common import fail, replaced_atomically
from xhs_spider.config.declarations import CSV_RAW_TEXT
from xhs_spider.config.effective import crawl_settings
from xhs_spider.dataset.columns import collection_columns
from xhs_spider.dataset.parquet_writer import MISSING, parquet_available
from xhs_spider.dataset.query import (
    CHANNEL,
    COLLECTIONS,
    NOTE_STATUSES,
    Query,
    parse_since,
    parse_source,
)
from xhs_spider.dataset.readers import dataset_from_settings, opened
from xhs_spider.dataset.sqlite_reader import NoStore, StoreUnreadable
from xhs_spider.dataset.writers import file_format, write_records
from xhs_spider.outcome.reasons import EXIT_FAILED
from xhs_spider.run.readable import plain_text

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import BaseSettings


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "{%s} -o FILE [--since 7d] [--source KIND:VALUE ...] [--channel OID ...] [--status ok]" % (
            ",".join(COLLECTIONS))

    def short_desc(self) -> str:
        return "Export the dataset from the store (XHS_STORE_URI) to .csv, .jsonl, .json or .parquet"

    def long_desc(self) -> str:
        return plain_text(__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_filter_options(parser, default_since=None)
        parser.add_argument("-o", "--output", metavar="FILE", help="the file to write (required)")
        parser.add_argument(
            "--status", action="append", metavar="STATUS",
            help="notes only: those with this status (%s); repeatable" % "|".join(NOTE_STATUSES))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        try:
            query, path = self._parse(args, opts)
        except ValueError as exc:
            fail(self, str(exc))
            return
        if file_format(path) == "parquet" and not parquet_available():
            fail(self, MISSING)
            return
        try:
            count, where = export(crawl_settings(self.settings), query, path)
        except (ValueError, NoStore) as exc:
            fail(self, str(exc))
            return
        except (StoreUnreadable, OSError) as exc:  # not bad input: the same command may work later
            fail(self, str(exc), EXIT_FAILED)
            return
        print("Exported %d %s from %s to %s" % (count, query.collection, where, path))

    def _parse(self, args: list[str], opts: argparse.Namespace) -> tuple[Query, Path]:
        if len(args) != 1:
            raise ValueError("name one collection: %s" % ", ".join(COLLECTIONS))
        if not opts.output:
            raise ValueError("name the file to write with -o FILE (.csv, .jsonl, .json, .parquet)")
        path = Path(opts.output)
        file_format(path)
        query = query_from_options(args[0], opts, statuses=opts.status)
        return query, path


def add_filter_options(parser: argparse.ArgumentParser, *, default_since: str | None) -> None:
    """``--since``, ``--source`` and ``--channel``, shared by ``scrapy export`` and ``scrapy report``."""
    parser.add_argument(
        "--since", default=default_since, metavar="SPAN",
        help="only what the store got since then: 7d, 24h, 30m ago, or an ISO date"
        + (" (default %s)" % default_since if default_since else " (default: everything)"))
    parser.add_argument(
        "--channel", action="append", metavar="OID",
        help="only what concerns this channel (see scrapy channels); repeatable")
    parser.add_argument(
        "--source", action="append", metavar="KIND:VALUE",
        help="only what concerns this source: %s; repeatable" % ", ".join(
            ("keyword:咖啡", "user:USER_ID", "topic:TOPIC_ID", "channel:OID")))


def query_from_options(
    collection: str, opts: argparse.Namespace, *, statuses: list[str] | None = None,
) -> Query:
    """The query the options name; ``ValueError``, one line, for any that is wrong
    (an unknown channel as the crawl answers it, with the closest one; a
    source of no known kind, naming the kinds)."""
    sources = [(CHANNEL, channel) for value in opts.channel or ()
               for channel in parse_channels(value, "--channel")]
    sources += [source for value in getattr(opts, "source", None) or () for source in parse_source(value)]
    return Query(
        collection,
        since=None if opts.since is None else parse_since(opts.since),
        sources=frozenset(sources) if sources else None,
        statuses=None if not statuses else frozenset(statuses),
    )


def export(settings: BaseSettings, query: Query, path: Path) -> tuple[int, str]:
    """Write what *query* selects to *path*; the count written and the store's URI."""
    columns = collection_columns(query.collection)
    raw_text = CSV_RAW_TEXT.get(settings)
    dataset = dataset_from_settings(settings)
    with replaced_atomically(path) as partial, opened(dataset):
        count = write_records(partial, dataset.records(query), columns,
                              kind=file_format(path), raw_text=raw_text)
    return count, dataset.display_uri
