"""Second line of defence: no log record leaves with the API token in it.

TokenMiddleware keeps the token out of every request that Scrapy logs; this
filter catches whatever else might quote it (a third-party component, an
exception message, a traceback) and masks ``token=…`` and the token itself.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals

from xhs_spider.api.masking import mask_token

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy.crawler import Crawler

_formatter = logging.Formatter()


class TokenMaskingFilter(logging.Filter):
    def __init__(self, token: str | None):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_token(message, self.token)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_token(record.exc_text, self.token)
        if record.stack_info:
            record.stack_info = mask_token(record.stack_info, self.token)
        return True


class TokenLogMasking:
    """Adds :class:`TokenMaskingFilter` to every root log handler for the crawl."""

    def __init__(self, crawler: Crawler):
        self.filter = TokenMaskingFilter(crawler.settings.get("JUSTONEAPI_TOKEN"))
        self.handlers: set[logging.Handler] = set()
        self._attach()
        # Scrapy replaces its root handler after building the extensions, so
        # attach again once the spider opens, before any request is sent.
        crawler.signals.connect(self._attach, signal=signals.spider_opened)
        crawler.signals.connect(self._detach, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _attach(self) -> None:
        for handler in logging.getLogger().handlers:
            handler.addFilter(self.filter)
            self.handlers.add(handler)

    def _detach(self) -> None:
        for handler in self.handlers:
            handler.removeFilter(self.filter)
        self.handlers.clear()
