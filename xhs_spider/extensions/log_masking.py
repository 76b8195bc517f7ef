"""Second line of defence: no log record leaves with the API token in it.

TokenMiddleware keeps the token out of every request that Scrapy logs; this
filter catches whatever else might quote it (a third-party component, an
exception message, a traceback) and masks ``token=…`` and the token itself.

It runs for every record a handler emits, so it is built to be cheap: a
handler calls it only for records at or above the handler's level; a record
is checked once however many handlers it reaches; and items are not
formatted to be checked. An item holds a note as the API described it,
normalised field by field: never the token, which only ever travels in a
request's query for the moment of its download. Formatting an item
(Scrapy's ``Scraped from`` line pretty-prints it) is what made masking cost
more than the crawl at DEBUG; the handler formats it once, for output.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scrapy import Item, signals

from xhs_spider.api.masking import carries_token, mask_token

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

_formatter = logging.Formatter()
#: On a record: the serial numbers of the filters that have checked it (a
#: filter is shared by every root handler; each crawl in a process has its own).
CHECKED_ATTRIBUTE = "xhs_token_checked_by"
_serial_numbers = itertools.count()
ITEM_STAND_IN = "<item>"


class TokenMaskingFilter(logging.Filter):
    def __init__(self, token: str | None):
        super().__init__()
        self.token = token
        self.serial_number = next(_serial_numbers)

    def filter(self, record: logging.LogRecord) -> bool:
        checked_by: set[int] = record.__dict__.setdefault(CHECKED_ATTRIBUTE, set())
        if self.serial_number in checked_by:
            return True
        checked_by.add(self.serial_number)
        if carries_token(message_without_items(record), self.token):
            record.msg, record.args = mask_token(record.getMessage(), self.token), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_token(record.exc_text, self.token)
        if record.stack_info:
            record.stack_info = mask_token(record.stack_info, self.token)
        return True


def message_without_items(record: logging.LogRecord) -> str:
    """*record*'s message with every item argument shown as ``<item>``.

    Anything else is formatted as the handler will format it. Arguments
    that do not fit the message are joined to it, so the record still says
    what was logged: the handler would otherwise print them unmasked in its
    "Logging error" report.
    """
    args: Any = record.args
    if not args:
        return str(record.msg)
    if isinstance(args, Mapping):
        args = {key: _stand_in(value) for key, value in args.items()}
    else:
        args = tuple(_stand_in(value) for value in args)
    try:
        return str(record.msg) % args
    except (TypeError, ValueError, KeyError):
        record.msg, record.args = f"{record.msg} (arguments that do not fit it: {record.args!r})", None
        return record.msg


def _stand_in(value: object) -> object:
    return ITEM_STAND_IN if isinstance(value, Item) else value


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
