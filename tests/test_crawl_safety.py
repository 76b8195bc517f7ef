"""The token never leaks, and bad input stops before any API call."""

from __future__ import annotations

import pytest

from tests.conftest import TOKEN, run_scrapy


def all_files_text(directory):
    texts = []
    for path in directory.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def test_token_leaves_no_trace(crawl, api, tmp_path):
    # Redirects would carry the token in Location; a connection dropped
    # mid-body makes Scrapy log the URL it was downloading.
    api.configure(
        faults={"500": 0.2, "400": 0.05, "302": 0.05}, malformed_rate=0.05,
        redirect_rate=0.1, dataloss_rate=0.1,
    )
    jobdir = tmp_path / "job"
    result = crawl(
        "feed", "oid=homefeed_food_v3", "pages=2",
        settings={"JOBDIR": str(jobdir), "LOG_LEVEL": "DEBUG"},
    )

    assert result.finish_reason == "finished"
    assert result.notes
    assert "Gave up on" in result.log  # the 400 give-ups log their request
    served = api.stats()["http_faults"]
    assert served["redirect"] > 0 and served["dataloss"] > 0
    assert "Redirecting" not in result.log
    everything = "\n".join([result.log, result.stdout, all_files_text(tmp_path)])
    assert TOKEN not in everything
    assert "token=" + TOKEN[:6] not in everything


def test_token_stays_out_of_a_paused_jobdir(crawl, api, tmp_path):
    # A crawl stopped by the quota leaves its pending requests in JOBDIR.
    api.configure(quota=5)
    jobdir = tmp_path / "paused-job"
    result = crawl(
        "feed", "oid=homefeed_food_v3,homefeed_travel_v3", "pages=3",
        settings={"JOBDIR": str(jobdir), "CONCURRENT_REQUESTS": "2"},
    )

    assert result.finish_reason == "justoneapi_daily_quota_exceeded"
    queued = [p for p in (jobdir / "requests.queue").rglob("*") if p.is_file() and p.stat().st_size]
    assert queued, "expected pending requests persisted in JOBDIR"
    persisted = b"".join(p.read_bytes() for p in jobdir.rglob("*") if p.is_file())
    assert b"noteId=" in persisted or b"get-note-feed" in persisted
    assert TOKEN.encode() not in persisted
    assert b"token=" not in persisted


def test_token_stays_out_of_download_errors(crawl, api):
    # Timeouts quote the URL they failed on; the token must be masked there too.
    api.configure(latency=2.0)
    result = crawl(
        "feed", "oid=homefeed_food_v3", "pages=1", "details=false",
        settings={"DOWNLOAD_TIMEOUT": "0.5", "RETRY_TIMES": "1"},
    )

    assert "took longer than" in result.log
    assert TOKEN not in result.log + result.stdout


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
