"""``scrapy crawl … -a dry_run=true`` as users run it: exit 0, no call, one line."""

from __future__ import annotations

import pytest

from xhs_spider.spiders.dry_run import NOTES_PER_PAGE

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("spider", "arguments", "at_most"), [
    ("feed", ("oid=homefeed_food_v3", "pages=2"), 2 * (1 + NOTES_PER_PAGE["feed"])),
    ("search", ("keyword=咖啡", "pages=1"), 1 + NOTES_PER_PAGE["search"]),
])
def test_a_dry_run_exits_0_and_makes_no_call(crawl, api, spider, arguments, at_most):
    result = crawl(spider, *arguments, "dry_run=true")

    assert result.returncode == 0, result.log[-2000:]
    assert result.finish_reason == "dry_run"
    assert api.stats()["calls"] == 0
    assert f"Dry run of {spider}: at most {at_most} billed calls" in result.log


def test_a_bad_dry_run_value_is_one_line_and_exit_2(crawl, api):
    result = crawl("feed", "dry_run=perhaps")

    assert result.returncode == 2
    assert result.stdout.splitlines() == ["Error: -a dry_run='perhaps': expected true or false."]
    assert api.stats()["calls"] == 0
