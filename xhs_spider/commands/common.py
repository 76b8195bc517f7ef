"""What several commands share. Functions only: a ScrapyCommand here would become a command."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from xhs_spider.addon import XhsSpiderAddon
from xhs_spider.outcome.reasons import EXIT_USAGE

if TYPE_CHECKING:
    from scrapy.commands import ScrapyCommand
    from scrapy.settings import BaseSettings


def store_settings(settings: BaseSettings) -> BaseSettings:
    """The settings with the project's defaults and environment, as a crawl sees them."""
    settings = settings.copy()
    XhsSpiderAddon().update_settings(settings)
    return settings


def fail(command: ScrapyCommand, problem: str, status: int = EXIT_USAGE) -> None:
    """One clear line on stderr; *command* exits with *status*."""
    print("Error: %s" % problem, file=sys.stderr)
    command.exitcode = status
