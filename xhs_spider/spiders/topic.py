"""``scrapy crawl topic -a topic=...``: a topic's notes page by page, then every note's detail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from xhs_spider.api.client import TOPIC_NOTES
from xhs_spider.api.sources import TOPIC_SORTS, parse_topic_id, parse_topic_sort
from xhs_spider.config.declarations import XHS_FEED_PAGES
from xhs_spider.spiders.arguments import About, Comments, Refresh, SpiderArgumentError, parse_bool
from xhs_spider.spiders.base import parse_comments_argument
from xhs_spider.spiders.discovery import MAX_PAGES, DiscoverySpider, parse_pages, split_values

if TYPE_CHECKING:
    from scrapy import Request


class TopicSpider(DiscoverySpider):
    """Reads the pages of topics (hash tags), then fetches every note found."""

    name = "topic"
    kind = "topic"
    endpoint = TOPIC_NOTES
    by_cursor = True

    def parse_arguments(
        self,
        *,
        topic: Annotated[str | None, About(
            "a topic id or topic page URL; several comma-separated"
        )] = None,
        sort: Annotated[str, About(f"order of the notes: {', '.join(TOPIC_SORTS)}")] = "hot",
        pages: Annotated[str | int | None, About(
            f"pages per topic, 1 to {MAX_PAGES}", default_from=XHS_FEED_PAGES
        )] = None,
        details: Annotated[str | bool, About(
            "fetch the detail of every note found; false reads the topic pages only"
        )] = True,
        refresh: Refresh = False,
        comments: Comments = 0,
    ) -> None:
        self.max_comments = parse_comments_argument(comments)
        if topic is None:
            raise SpiderArgumentError("Give -a topic=TOPIC_ID (several: comma-separated).")
        self.sources = split_values("topic", topic, parse_topic_id)
        self.sort = split_values("sort", sort, parse_topic_sort)[0]
        self.pages_asked = parse_pages(pages)
        self.details = parse_bool("details", details)
        self.refresh = parse_bool("refresh", refresh)

    def page_request(self, value: str, page: int, cursor: str | None, **kwargs: Any) -> Request:
        return self.api.topic_notes_request(value, self.sort, cursor, **kwargs)
