"""The discovery spiders beyond one process: a ``search`` crawl shared by two
workers through a real Redis pays each note and each search page once, and
the Scrapyd egg deploys the new spiders and runs a ``search`` job."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from sandbox import SandboxProcess
from tests.redis_server import RedisServer
from tests.scrapyd_server import ScrapydServer
from tests.test_discovery_kill import KEYWORDS, PAGES, truth
from tests.test_distributed import (  # noqa: F401 (fixtures)
    Workers,
    assert_no_token_in_redis,
    finish_all,
    redis_installed,
    redis_server,
)
from tests.test_scrapyd import (  # noqa: F401 (fixtures)
    PROJECT,
    checkout,
    deployed,
    job_settings,
    scrapyd,
    scrapyd_environment,
)
from xhs_spider.store import open_store

pytestmark = pytest.mark.integration

CRAWL_ID = "search-shared"


def test_two_workers_share_a_search_and_pay_each_note_and_page_once(
    api: SandboxProcess, redis_server: RedisServer, tmp_path: Path,  # noqa: F811 (the fixture)
) -> None:
    api.configure(latency=0.1)  # long enough for both workers to take requests
    store_uri = f"sqlite:///{tmp_path / 'xhs.sqlite3'}"
    workers = Workers(api, redis_server.url, store_uri, tmp_path)
    arguments = {"keyword": ",".join(KEYWORDS), "pages": str(PAGES)}
    started = [workers.start(CRAWL_ID, spider="search", arguments=arguments)]
    time.sleep(0.5)
    started.append(workers.start(CRAWL_ID, spider="search", arguments=arguments))
    finish_all(started)

    pages = truth(api)
    found = {note_id for page in pages.values() for note_id in page}
    served = api.stats()
    assert served["detail_billed_by_note"].keys() == found
    assert set(served["detail_billed_by_note"].values()) == {1}, "a note was paid for twice"
    assert len(served["discovery_billed_by_request"]) == len(pages)
    assert set(served["discovery_billed_by_request"].values()) == {1}, "a page was paid for twice"
    # Both workers took part: each sent calls of its own.
    assert all(worker.stats.get("justoneapi/requests/detail", 0) > 0 for worker in started), [
        worker.stats for worker in started]
    with open_store(store_uri) as store:
        notes = {note["note_id"] for note in store.iter_notes()}
        places = Counter((a["source_value"], a["page"], a["rank"], a["note_id"])
                         for a in store.records("feed_appearances"))
        runs = store.find_runs()
    assert notes == found
    # Each place a page showed a note, once across the workers.
    assert places == Counter((keyword, number, rank, note_id) for (keyword, number), page in pages.items()
                             for rank, note_id in enumerate(page, 1))
    assert [run["crawl_id"] for run in runs] == [CRAWL_ID] * 2
    assert_no_token_in_redis(redis_server)


def test_the_egg_deploys_the_discovery_spiders_and_a_search_job_finishes(
    scrapyd: ScrapydServer, checkout: Path, api: SandboxProcess, tmp_path: Path,  # noqa: F811 (fixtures)
) -> None:
    deployed(checkout, scrapyd)
    spiders = scrapyd.call("listspiders.json?project=" + PROJECT)["spiders"]
    assert {"search", "user", "topic"} <= set(spiders), spiders
    job_id = scrapyd.schedule(PROJECT, "search", arguments={"keyword": KEYWORDS[0], "pages": "1"},
                              settings=job_settings(api))
    job = scrapyd.wait_for_job(job_id)
    log = (scrapyd.base_dir / job["log_url"].lstrip("/")).read_text("utf-8")
    assert "'finish_reason': 'finished'" in log
    assert f"Process finished: project='{PROJECT}' spider='search' job='{job_id}'" in scrapyd.read_log()
    first_page = api.discovery("keyword", KEYWORDS[0])["pages"][0]
    with open_store(f"sqlite:///{tmp_path / 'store' / 'xhs.sqlite3'}") as store:
        assert {note["note_id"] for note in store.iter_notes()} == set(first_page)
