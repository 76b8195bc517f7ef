import pytest
from scrapy.settings import Settings

from xhs_spider.addon import XhsSpiderAddon
from xhs_spider.commands.checks import first_problem
from xhs_spider.config.declarations import DECLARED


def settings(**values):
    result = Settings(values, priority="cmdline")
    XhsSpiderAddon().update_settings(result)
    return result


def test_every_default_is_usable():
    assert first_problem(settings()) is None
    for declared in DECLARED.values():
        declared.get(settings())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("XHS_DETAIL_TTL", "1d", "seconds as a whole number"),
        ("JUSTONEAPI_RETRY_TIMES", "-1", "0 or more"),
        ("JUSTONEAPI_RATE_BACKOFF", "2", "between 0 and 1"),
        ("JUSTONEAPI_MAX_RPS", "-5", "0 (not known) or more"),
        ("JUSTONEAPI_BASE_URL", "api.justoneapi.com", "http:// or https://"),
        ("XHS_FEED_PAGES", "0", "from 1 to 1000"),
        ("JUSTONEAPI_ACCEPT_CACHE", "maybe", "true or false"),
        ("JUSTONEAPI_MAX_BILLED_CALLS", "abc", "0 (unlimited) or more"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting(name, value, expected):
    problem = first_problem(settings(**{name: value}))
    assert problem.startswith(f"Setting {name}={value!r}")
    assert expected in problem and "\n" not in problem


def test_strings_from_scrapyd_are_typed():
    assert DECLARED["XHS_DETAIL_TTL"].get(settings(XHS_DETAIL_TTL="3600")) == 3600
    assert DECLARED["JUSTONEAPI_ACCEPT_CACHE"].get(settings(JUSTONEAPI_ACCEPT_CACHE="true")) is True


def test_store_uri_is_checked():
    assert "XHS_STORE_URI" in first_problem(settings(XHS_STORE_URI="foo://x"))


def test_environment_overrides_settings_py_but_not_the_command_line(monkeypatch):
    monkeypatch.setenv("XHS_DETAIL_TTL", "60")
    project = Settings({"XHS_DETAIL_TTL": 10}, priority="project")
    XhsSpiderAddon().update_settings(project)
    assert DECLARED["XHS_DETAIL_TTL"].get(project) == 60
    assert DECLARED["XHS_DETAIL_TTL"].get(settings(XHS_DETAIL_TTL="5")) == 5
