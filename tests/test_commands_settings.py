"""``scrapy settings --get``: the values a crawl really uses, never the token."""

from __future__ import annotations

from tests.conftest import TOKEN, run_scrapy
from xhs_spider.config.declarations import DECLARED


def get(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = run_scrapy(["settings", "--get", name, *args], env=env)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    return done.stdout.strip()


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
