"""``scrapy crawl search -a keyword=...``: keyword search pages, then every note's detail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from xhs_spider.api.client import SEARCH
from xhs_spider.api.sources import (
    NOTE_TYPES_V4,
    SEARCH_SORTS,
    TIME_WINDOWS_V4,
    SearchFilters,
    SourceValueError,
    parse_keyword,
)
from xhs_spider.config.declarations import XHS_FEED_PAGES
from xhs_spider.spiders.arguments import About, Comments, Refresh, SpiderArgumentError, parse_bool
from xhs_spider.spiders.base import parse_comments_argument
from xhs_spider.spiders.discovery import MAX_PAGES, DiscoverySpider, parse_pages, split_values

if TYPE_CHECKING:
    from scrapy import Request


class SearchSpider(DiscoverySpider):
    """Searches notes by keyword, page after page, then fetches every note found."""

    name = "search"
    kind = "keyword"
    endpoint = SEARCH
    by_cursor = False

    def parse_arguments(
        self,
        *,
        keyword: Annotated[str | None, About("the words to search for; several comma-separated")] = None,
        pages: Annotated[str | int | None, About(
            f"search pages per keyword, 1 to {MAX_PAGES}", default_from=XHS_FEED_PAGES
        )] = None,
        sort: Annotated[str, About(f"order of the results: {', '.join(SEARCH_SORTS)}")] = "general",
        note_type: Annotated[str, About(f"which notes: {', '.join(NOTE_TYPES_V4)}")] = "all",
        time: Annotated[str, About(
            f"published within: {', '.join(TIME_WINDOWS_V4)}"
        )] = "all",
        details: Annotated[str | bool, About(
            "fetch the detail of every note found; false reads the search pages only"
        )] = True,
        refresh: Refresh = False,
        comments: Comments = 0,
    ) -> None:
        self.max_comments = parse_comments_argument(comments)
        if keyword is None:
            raise SpiderArgumentError("Give -a keyword=WORDS (several: comma-separated).")
        self.sources = split_values("keyword", keyword, parse_keyword)
        try:
            self.filters = SearchFilters.parse(sort=sort, note_type=note_type, time=time)
        except SourceValueError as exc:
            raise SpiderArgumentError(f"-a {exc}") from None
        self.pages_asked = parse_pages(pages)
        self.details = parse_bool("details", details)
        self.refresh = parse_bool("refresh", refresh)

    def page_request(self, value: str, page: int, cursor: str | None, **kwargs: Any) -> Request:
        return self.api.search_request(value, page, self.filters, **kwargs)
