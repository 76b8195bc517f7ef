"""RunSummary: the block logged at the end of a run, and the run record it matches."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import InProcessCrawl
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.store import open_store


@deferred_f_from_coro_f
async def test_summary_counts_what_the_sandbox_billed(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    api.configure(faults={"301": 0.1, "302": 0.05})
    result = await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="2")

    sandbox = api.stats()
    billed = sandbox["billed"]
    block = result.log[result.log.index("Run summary"):]
    assert f"{billed} billed" in block
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        (run,) = store.find_runs()
    assert run["finish_reason"] == "finished"
    assert run["summary"]["api"]["billed"] == billed
    assert run["summary"]["notes"]["new"] == len({a["note_id"] for a in result.appearances})
    assert run["arguments"] == {"oid": "homefeed_food_v3", "pages": "2"}
    assert run["summary"]["finish_reason"] == "finished"
    # Calls and billed calls per endpoint, as the sandbox counted them.
    by_endpoint = run["summary"]["api"]["by_endpoint"]
    assert {endpoint: calls["billed"] for endpoint, calls in by_endpoint.items()} == {
        endpoint: count for endpoint, count in sandbox["billed_by_endpoint"].items() if count}
    assert {endpoint: calls["requests"] for endpoint, calls in by_endpoint.items()} == {
        endpoint: count for endpoint, count in sandbox["calls_by_endpoint"].items() if count}
    detail = by_endpoint["detail"]
    assert f"detail {detail['requests']}/{detail['billed']}" in block
