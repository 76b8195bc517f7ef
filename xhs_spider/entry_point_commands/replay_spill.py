"""``scrapy replay-spill [FILE ...]``: load spill files into the store.

Without arguments it loads every pending ``spill-*.jsonl`` of the spill
directory. Loading is idempotent: a note already stored is not stored twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from xhs_spider.commands.common import fail
from xhs_spider.config.effective import crawl_settings
from xhs_spider.outcome.reasons import EXIT_FAILED
from xhs_spider.store import spill
from xhs_spider.store.base import NoteStore, StoreUnavailable
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    import argparse


class ReplaySpillCommand(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[SPILL_FILE ...]"

    def short_desc(self) -> str:
        return "Load spill files into the store (XHS_STORE_URI), idempotently"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        settings = crawl_settings(self.settings)
        try:
            store = store_from_settings(settings)
        except ValueError as exc:
            fail(self, str(exc), EXIT_FAILED)
            return
        paths = [Path(arg) for arg in args] or spill.pending_files(
            spill.spill_directory(settings, store)
        )
        if not paths:
            print("No spill file to replay.")
            return
        try:
            store.open()
        except StoreUnavailable as exc:
            fail(self, f"the store {store.display_uri} is unreachable: {str(exc)[:160]}", EXIT_FAILED)
            return
        try:
            for path in paths:
                self._replay(path, store)
        finally:
            store.close()

    def _replay(self, path: Path, store: NoteStore) -> None:
        try:
            count = spill.replay(path, store)
        except (OSError, ValueError, StoreUnavailable) as exc:
            fail(self, f"{path}: {exc}", EXIT_FAILED)
            return
        print(f"{path}: {count} operations loaded into {store.display_uri}")
