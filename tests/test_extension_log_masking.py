import logging

from scrapy import Field, Item, Spider, signals
from scrapy.utils.test import get_crawler

from xhs_spider.extensions.log_masking import TokenLogMasking, TokenMaskingFilter

TOKEN = "mask-me-Q1w2E3r4T5y6"


def test_filter_masks_messages_arguments_and_tracebacks():
    record_filter = TokenMaskingFilter(TOKEN)
    try:
        raise RuntimeError(f"failed https://h/x?page=1&token={TOKEN}")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "GET %s", (f"https://h/?token={TOKEN}&a=1",), sys.exc_info()
        )
    assert record_filter.filter(record)
    text = logging.Formatter().format(record)
    assert TOKEN not in text
    assert "token=***&a=1" in text
    assert "token=***" in record.exc_text


def test_extension_masks_what_any_logger_writes_until_the_engine_stops(caplog):
    root = logging.getLogger()
    root.addHandler(caplog.handler)
    try:
        crawler = get_crawler(Spider, {"JUSTONEAPI_TOKEN": TOKEN})
        extension = TokenLogMasking.from_crawler(crawler)
        with caplog.at_level(logging.INFO):
            logging.getLogger("third.party").info("calling with %s", TOKEN)
        assert TOKEN not in caplog.text
        assert "calling with ***" in caplog.text
        crawler.signals.send_catch_log(signal=signals.engine_stopped)
        assert extension.filter not in caplog.handler.filters
    finally:
        root.removeHandler(caplog.handler)


def test_a_short_token_does_not_mangle_other_text():
    record_filter = TokenMaskingFilter("x")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "GET /api/xiaohongshu?token=x&oid=a", None, None)
    record_filter.filter(record)
    assert record.getMessage() == "GET /api/xiaohongshu?token=***&oid=a"


class CountedItem(Item):
    title = Field()
    formatted = 0

    def __repr__(self) -> str:
        CountedItem.formatted += 1
        return super().__repr__()


class CountedArgument:
    def __init__(self, text: str):
        self.text, self.formatted = text, 0

    def __str__(self) -> str:
        self.formatted += 1
        return self.text


def scraped_record(src: object, item: Item) -> logging.LogRecord:
    return logging.LogRecord(
        "scrapy.core.scraper", logging.DEBUG, __file__, 1, "Scraped from %(src)s\n%(item)s", ({"src": src, "item": item},), None
    )


def test_items_are_not_formatted_to_be_checked():
    CountedItem.formatted = 0
    record = scraped_record("<200 https://h/x?noteId=1>", CountedItem(title="a note"))
    assert TokenMaskingFilter(TOKEN).filter(record)
    assert CountedItem.formatted == 0
    assert "'title': 'a note'" in record.getMessage()


def test_a_token_beside_an_item_is_masked_and_the_item_kept():
    record = scraped_record(f"<200 https://h/x?token={TOKEN}>", CountedItem(title="a note"))
    TokenMaskingFilter(TOKEN).filter(record)
    message = record.getMessage()
    assert TOKEN not in message
    assert "token=***" in message and "'title': 'a note'" in message


def test_a_record_reaching_several_handlers_is_checked_once_per_filter():
    argument = CountedArgument(f"calling with {TOKEN}")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (argument,), None)
    shared, other = TokenMaskingFilter(TOKEN), TokenMaskingFilter("another-token-of-length")
    shared.filter(record)
    shared.filter(record)
    other.filter(record)
    assert argument.formatted == 2  # checked, then formatted to be masked
    assert record.getMessage() == "calling with ***"


def test_each_crawls_filter_masks_its_own_token():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", (TOKEN, "second-token-abc"), None)
    TokenMaskingFilter(TOKEN).filter(record)
    TokenMaskingFilter("second-token-abc").filter(record)
    assert record.getMessage() == "*** and ***"


def test_arguments_that_do_not_fit_the_message_are_shown_masked():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", (f"token={TOKEN}",), None)
    assert TokenMaskingFilter(TOKEN).filter(record)
    assert record.getMessage() == "%d items (arguments that do not fit it: ('token=***',))"
