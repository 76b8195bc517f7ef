"""A share link whose paid answer (code 0) cannot be read: counted, and kept
as a raw answer (``source_kind`` share, ``source_value`` the link) as any
unreadable discovery answer is, by the ``note`` and the ``user`` spider."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from scrapy.spiders import Spider
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import InProcessCrawl
from xhs_spider import stats as keys
from xhs_spider.api.client import SHARE
from xhs_spider.spiders.note import NoteSpider
from xhs_spider.spiders.user import UserSpider

LINK = "http://xhslink.com/a/Zx81bQ"


def raw_answers(path: Path) -> list[tuple[str, str, int, str]]:
    with closing(sqlite3.connect(path)) as connection:
        return list(connection.execute(
            "SELECT source_kind, source_value, page, endpoint FROM raw_answers"))


@pytest.mark.parametrize(("spider", "arguments"), [
    (NoteSpider, {"ids": LINK}),
    (UserSpider, {"user": LINK}),
], ids=["note", "user"])
@deferred_f_from_coro_f
async def test_an_unreadable_share_answer_is_counted_and_kept(
    api: SandboxProcess, in_process_crawl: InProcessCrawl, tmp_path: Path,
    spider: type[Spider], arguments: dict[str, Any],
) -> None:
    api.configure(discovery_shape="unreadable")
    output = await in_process_crawl(spider, **arguments)
    assert api.stats()["billed_by_endpoint"]["share"] == 1
    assert output.stats[keys.DISCOVERY_UNREADABLE.format(endpoint=SHARE)] == 1
    kept = [item for item in output.items if item.get("reason") == "unreadable"]
    assert [(item["source_kind"], item["source_value"], item["page"]) for item in kept] == [
        ("share", LINK, 1)]
    assert '"weird"' in kept[0]["body"]
    assert raw_answers(tmp_path / "xhs.sqlite3") == [
        ("share", LINK, 1, "/api/xiaohongshu/share-url-transfer/v1")]
    # The only answers of the share endpoint could not be read: the run says so.
    assert output.finish_reason == "justoneapi_unreadable_answers"
    assert "The share endpoint answered code 0 1 times" in output.log
    # And nothing else was paid for: the link led nowhere the crawl could go.
    assert {endpoint for endpoint, count in api.stats()["billed_by_endpoint"].items() if count} == {
        "share"}
