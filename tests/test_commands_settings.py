"""``scrapy settings --get``: the values a crawl really uses, never the token."""

from __future__ import annotations

import pytest

from tests.conftest import TOKEN, run_scrapy
from xhs_spider.cli import SETTINGS_MODULE
from xhs_spider.config.declarations import DECLARED, DEFAULT_STORE_PATH

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration


def get(name: str, *args: str, env: dict[str, str] | None = None, cwd=None) -> str:
    done = run_scrapy(["settings", "--get", name, *args], env=env, **({"cwd": cwd} if cwd else {}))
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    return done.stdout.strip()


def refused(*args: str, env: dict[str, str] | None = None) -> str:
    """Runs ``scrapy settings *args``; asserts it was refused as bad input and returns its line."""
    done = run_scrapy(["settings", *args], env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    return line


def test_settings_show_the_add_on_defaults_a_crawl_uses():
    assert get("CONCURRENT_REQUESTS") == "8"  # Scrapy's own command says 16
    # Set by the add-on from CONCURRENT_REQUESTS, as at crawler init.
    assert get("CONCURRENT_REQUESTS_PER_DOMAIN") == "8"
    assert get("JUSTONEAPI_MAX_RPS") == str(DECLARED["JUSTONEAPI_MAX_RPS"].default)
    assert get("XHS_FEED_PAGES") == str(DECLARED["XHS_FEED_PAGES"].default)


def test_settings_follow_the_command_line_and_the_environment():
    assert get("CONCURRENT_REQUESTS_PER_DOMAIN", "-s", "CONCURRENT_REQUESTS=3") == "3"
    assert get("XHS_FEED_PAGES", env={"XHS_FEED_PAGES": "9"}) == "9"


def test_the_token_is_masked_wherever_it_comes_from():
    assert get("JUSTONEAPI_TOKEN") == "None"
    assert get("JUSTONEAPI_TOKEN", env={"JUSTONEAPI_TOKEN": TOKEN}) == "***"
    assert get("JUSTONEAPI_TOKEN", "-s", f"JUSTONEAPI_TOKEN={TOKEN}") == "***"


def test_a_store_password_is_masked():
    uri = get("XHS_STORE_URI", env={"XHS_STORE_URI": "mongodb://crawler:s3cret-pw@db:27017/xhs"})
    assert uri == "mongodb://crawler:***@db:27017/xhs"
    assert get("XHS_STORE_URI", env={"XHS_STORE_URI": "sqlite:///tmp/x.sqlite3"}) == (
        "sqlite:///tmp/x.sqlite3"
    )


def test_every_url_setting_has_its_password_masked():
    redis = get("REDIS_URL", env={"REDIS_URL": "redis://worker:r3dis-pw@cache:6379/0"})
    assert redis == "redis://worker:***@cache:6379/0"
    assert get("REDIS_URL", env={"REDIS_URL": "redis://:only-pw@cache:6379/0"}) == "redis://:***@cache:6379/0"
    assert get("REDIS_URL", env={"REDIS_URL": "redis://cache:6379/0?password=q-pw"}) == (
        "redis://cache:6379/0?password=***")
    base = get("JUSTONEAPI_BASE_URL", "-s", "JUSTONEAPI_BASE_URL=https://me:b4se-pw@api.example:8443")
    assert base == "https://me:***@api.example:8443"
    assert get("REDIS_URL") == "None"


def test_the_store_is_the_one_a_crawl_opens(tmp_path):
    """Unset, the default SQLite file, its path made absolute; nothing is created."""
    env = {"SCRAPY_SETTINGS_MODULE": SETTINGS_MODULE}  # as xhs-spider runs it, anywhere

    assert get("XHS_STORE_URI", env=env, cwd=tmp_path) == f"sqlite://{tmp_path / DEFAULT_STORE_PATH}"
    relative = get("XHS_STORE_URI", "-s", "XHS_STORE_URI=sqlite://stores/x.sqlite3", env=env, cwd=tmp_path)
    assert relative == f"sqlite://{tmp_path / 'stores' / 'x.sqlite3'}"
    assert list(tmp_path.iterdir()) == []


def test_values_are_typed_as_the_crawl_reads_them():
    # Scrapy's command prints the text given: '0060', '/a, /b', 'on'.
    assert get("XHS_DETAIL_TTL", env={"XHS_DETAIL_TTL": "0060"}) == "60"
    assert get("JUSTONEAPI_MAX_RPS", "-s", "JUSTONEAPI_MAX_RPS=3") == "3.0"
    assert get("JUSTONEAPI_DETAIL_PATH", env={"JUSTONEAPI_DETAIL_PATH": "/a, /b,"}) == "['/a', '/b']"
    assert get("JUSTONEAPI_ACCEPT_CACHE", "-s", "JUSTONEAPI_ACCEPT_CACHE=1") == "True"
    assert get("XHS_CRAWL_ID", env={"XHS_CRAWL_ID": "  "}) == "None"  # blank is unset


@pytest.mark.parametrize("option", ["--get", "--getint"])
def test_a_value_the_crawl_refuses_is_refused_in_one_line(option):
    line = refused(option, "XHS_DETAIL_TTL", env={"XHS_DETAIL_TTL": "1d"})

    assert line == "Error: Setting XHS_DETAIL_TTL='1d': expected seconds as a whole number, 0 or more."


def test_refusals_never_show_a_secret():
    uri = "mongodb://crawler:s3cret-pw@db:99999/xhs"
    line = refused("--get", "XHS_STORE_URI", env={"XHS_STORE_URI": uri})
    assert line.startswith("Error: Setting XHS_STORE_URI: MongoDB URI mongodb://crawler:***@db:99999/xhs")
    assert "s3cret-pw" not in line

    line = refused("--get", "JUSTONEAPI_TOKEN", env={"JUSTONEAPI_TOKEN": f"{TOKEN} {TOKEN}"})
    assert line.startswith("Error: JUSTONEAPI_TOKEN holds white space") and TOKEN not in line


def test_only_the_setting_asked_for_is_checked():
    assert get("CONCURRENT_REQUESTS", env={"XHS_DETAIL_TTL": "1d"}) == "8"
