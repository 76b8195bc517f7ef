"""``scrapy crawl`` as cron and Scrapyd run it: exit statuses and one-line errors.

Subprocesses: only a real command shows its exit status and what it prints.
The behaviour of the crawls themselves is tested in-process elsewhere.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import TOKEN, run_scrapy
from tests.test_commands_export import unreachable_mongodb_uri

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration


def test_a_finished_crawl_exits_0(crawl, api):
    result = crawl("feed", "oid=homefeed_food_v3,homefeed_travel_v3", "pages=3")

    assert result.returncode == 0, result.stdout
    assert result.finish_reason == "finished"


def test_wrong_token_stops_after_the_first_answer(crawl, api):
    result = crawl("feed", "oid=homefeed_food_v3", "pages=3", token="not-the-token")

    assert result.finish_reason == "justoneapi_invalid_token"
    assert result.returncode == 1  # cron and Scrapyd see the failure
    assert api.stats()["calls"] == 1
    assert result.notes == [] and result.appearances == []


def test_budget_stops_the_crawl(crawl, api):
    result = crawl(
        "feed", "oid=homefeed_food_v3,homefeed_travel_v3", "pages=3",
        settings={"JUSTONEAPI_MAX_BILLED_CALLS": "10", "CONCURRENT_REQUESTS": "4"},
    )
    assert result.finish_reason == "justoneapi_budget_exhausted"
    assert result.returncode == 1
    # Calls in flight count against the budget: it is never overshot.
    assert api.stats()["billed"] == 10
    assert result.stats["justoneapi/billed"] == 10


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("oid=homefeed_fod_v3", "Did you mean 'homefeed_food_v3'?"),
        ("pages=zero", "-a pages='zero': expected a whole number"),
        ("pages=0", "-a pages='0': expected a whole number"),
        ("details=maybe", "-a details='maybe': expected true or false"),
    ],
)
def test_bad_argument_gives_one_line_and_no_call(api, argument, expected, tmp_path):
    done = run_scrapy(
        ["crawl", "feed", "-a", argument, "-s", f"JUSTONEAPI_BASE_URL={api.url}"],
        env={"JUSTONEAPI_TOKEN": TOKEN},
    )

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert api.stats()["calls"] == 0


def test_missing_token_gives_one_line_saying_how_to_set_it(api):
    done = run_scrapy(
        ["crawl", "feed", "-a", "oid=homefeed_food_v3", "-s", f"JUSTONEAPI_BASE_URL={api.url}"],
        env={},
    )

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Error: No Just One API token: set the JUSTONEAPI_TOKEN environment variable "
        "(export JUSTONEAPI_TOKEN=...) or the JUSTONEAPI_TOKEN setting."
    ]
    assert api.stats()["calls"] == 0


def test_store_unreachable_refuses_to_start(api):
    done = run_scrapy(
        ["crawl", "feed", "-s", f"JUSTONEAPI_BASE_URL={api.url}", "-s", "XHS_STORE_URI=mongodb://127.0.0.1:9/xhs"],
        env={"JUSTONEAPI_TOKEN": TOKEN},
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("Error: The store mongodb://127.0.0.1:9/xhs is unreachable")
    assert api.stats()["calls"] == 0


def test_an_unreachable_store_is_one_readable_sentence_its_password_masked(api):
    uri = unreachable_mongodb_uri()
    done = run_scrapy(["crawl", "feed", "-s", f"JUSTONEAPI_BASE_URL={api.url}"],
                      env={"JUSTONEAPI_TOKEN": TOKEN, "XHS_STORE_URI": uri})

    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    host = uri.split("@")[1].split("/")[0]
    # pymongo's timeouts, topology and errno are left out; the URI said once.
    assert re.fullmatch(rf"Error: The store mongodb://reader:\*\*\*@{host}/xhs is unreachable: "
                        rf"{host}: [A-Za-z ]+\. Check XHS_STORE_URI\.", line), line
    assert api.stats()["calls"] == 0


def test_a_crawl_at_the_default_log_level_logs_no_debug_line(api, tmp_path):
    done = run_scrapy(
        ["crawl", "feed", "-a", "pages=1", "-a", "details=false", "-s", f"JUSTONEAPI_BASE_URL={api.url}",
         "-s", f"XHS_STORE_URI=sqlite:///{tmp_path / 'xhs.sqlite3'}"],
        env={"JUSTONEAPI_TOKEN": TOKEN},
    )

    assert done.returncode == 0, done.stderr
    assert " INFO: Spider closed (finished)" in done.stderr
    # Scrapy's own first lines (reactor, event loop) were DEBUG lines at INFO.
    assert " DEBUG: " not in done.stderr
