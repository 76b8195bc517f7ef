"""The baseline: a bare Scrapy spider making the crawl's calls, and nothing else.

    JUSTONEAPI_TOKEN=... python -m benchmarks.bare_spider --url URL --channels a,b
        --pages N --stats-file PATH [-s NAME=VALUE ...]

Feed pages of each channel, then the detail of every note card not seen
before, the token in the URL, the project's stop rule (a page without cards
or without new notes ends its channel) and its priorities (details before
more feed pages). No project component: plain Scrapy settings, no add-on, no
middleware, no pipeline. What the project adds on top of this is what the
benchmark suite prices.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

FEED_PATH = "/api/xiaohongshu/get-note-feed/v1"
DETAIL_PATH = "/api/xiaohongshu-pgy/get-note-detail/v1"
DETAIL_PRIORITY = 10


class BareFeedSpider(scrapy.Spider):
    name = "bare_feed"

    def __init__(self, base_url: str, token: str, channels: list[str], pages: int) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.channels = channels
        self.pages = pages
        self.seen_notes: set[str] = set()

    async def start(self) -> Any:
        for channel in self.channels:
            yield self.feed_request(channel, 1)

    def url(self, path: str, **params: Any) -> str:
        return f"{self.base_url}{path}?{urlencode({**params, 'token': self.token})}"

    def feed_request(self, channel: str, page: int) -> scrapy.Request:
        return scrapy.Request(self.url(FEED_PATH, oid=channel, page=page), callback=self.parse_feed,
                              cb_kwargs={"channel": channel, "page": page})

    def parse_feed(self, response: Response, channel: str, page: int) -> Iterator[Any]:
        cards = json.loads(response.body).get("data")
        if not isinstance(cards, list):
            return
        new_notes = 0
        for card in cards:
            yield card
            note_id = card.get("id")
            if card.get("model_type") != "note" or card.get("is_ads") or not note_id:
                continue
            if note_id not in self.seen_notes:
                self.seen_notes.add(note_id)
                new_notes += 1
                yield scrapy.Request(self.url(DETAIL_PATH, noteId=note_id), callback=self.parse_detail,
                                     priority=DETAIL_PRIORITY)
        if cards and new_notes and page < self.pages:
            yield self.feed_request(channel, page + 1)

    def parse_detail(self, response: Response) -> Iterator[Any]:
        data = json.loads(response.body).get("data")
        if isinstance(data, dict):
            yield data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--channels", required=True, help="comma-separated")
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--stats-file", required=True)
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings: dict[str, Any] = {"ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False}
    settings.update(item.split("=", 1) for item in args.settings)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareFeedSpider)
    process.crawl(crawler, base_url=args.url, token=os.environ["JUSTONEAPI_TOKEN"],
                  channels=args.channels.split(","), pages=args.pages)
    process.start()
    with open(args.stats_file, "w", encoding="utf-8") as file:
        json.dump(crawler.stats.get_stats(), file, default=str)


if __name__ == "__main__":
    main()
