"""``scrapy channels``: the feed channels ``-a oid=`` accepts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from xhs_spider.api.channels import ALL, CHANNELS

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCommand):
    requires_project = False  # a fixed list: no settings needed
    requires_crawler_process = False

    def short_desc(self) -> str:
        return "List the feed channels (values of -a oid=) with their English names"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        width = max(map(len, CHANNELS))
        for oid, name in CHANNELS.items():
            print(f"{oid:<{width}}  {name}")
        print(f"{ALL:<{width}}  every channel above ({len(CHANNELS)})")
