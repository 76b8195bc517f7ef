"""StatsFile: the final stats as JSON, for schedulers and monitoring."""

from __future__ import annotations

import json

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from sandbox import SandboxProcess
from tests.conftest import ADDON, InProcessCrawl
from xhs_spider.extensions.stats_file import StatsFile
from xhs_spider.spiders.feed import FeedSpider


def test_off_unless_a_path_is_set():
    with pytest.raises(NotConfigured):
        StatsFile.from_crawler(get_crawler(Spider, ADDON))


@deferred_f_from_coro_f
async def test_the_file_holds_the_final_stats(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    path = tmp_path / "stats" / "feed.json"
    result = await in_process_crawl(
        FeedSpider, oid="homefeed_food_v3", pages="1", settings={"XHS_STATS_FILE": str(path)}
    )

    written = json.loads(path.read_text("utf-8"))
    assert written["finish_reason"] == result.finish_reason == "finished"
    assert written["justoneapi/billed"] == result.stats["justoneapi/billed"] == api.stats()["billed"]
    assert written["xhs/items/FeedAppearanceItem"] == len(result.appearances)
    assert f"Stats written to {path}" in result.log
