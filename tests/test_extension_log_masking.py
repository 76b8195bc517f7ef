import logging

from scrapy import Spider, signals
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
