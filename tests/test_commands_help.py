"""``scrapy crawl SPIDER -h``: the spider's arguments, from their one declaration."""

from __future__ import annotations

import inspect
import re

import pytest
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.project import get_project_settings

from tests.conftest import ROOT, run_scrapy
from xhs_spider.config.effective import crawl_settings
from xhs_spider.spiders.arguments import argument_lines
from xhs_spider.spiders.feed import FeedSpider

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

ARGUMENT_LINE = re.compile(r"^  ([a-z_]+) +\S")


def listed_arguments(stdout: str) -> dict[str, str]:
    """The spider-argument section of ``-h``: each name with its (unwrapped) text."""
    section = stdout.split("Spider arguments (-a NAME=VALUE):\n", 1)[1]
    arguments: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        match = ARGUMENT_LINE.match(line)
        if match:
            name = match.group(1)
        arguments[name] = f"{arguments.get(name, '')} {line.strip()}".strip()
    return arguments


def test_feed_help_lists_each_argument_with_its_default():
    done = run_scrapy(["crawl", "feed", "-h", "-s", "XHS_FEED_PAGES=3"])

    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout and "-a NAME=VALUE" in done.stdout  # Scrapy's part is kept
    arguments = listed_arguments(done.stdout)
    assert list(arguments) == ["oid", "pages", "details", "refresh", "comments"]
    assert arguments["oid"].endswith("(default: homefeed_recommend)")
    # The default that comes from a setting shows that setting's value for this run.
    assert arguments["pages"].endswith("(default: the setting XHS_FEED_PAGES, now 3)")
    assert arguments["details"].endswith("(default: true)")
    assert arguments["refresh"].endswith("(default: false)")
    assert done.stderr == ""


def test_note_help_lists_each_argument_with_its_default():
    done = run_scrapy(["crawl", "note", "--help"])

    assert done.returncode == 0, done.stderr
    arguments = listed_arguments(done.stdout)
    assert list(arguments) == ["ids", "ids_file", "stale", "unfetched", "limit", "comments"]
    assert arguments["stale"].endswith("(default: false)")
    assert arguments["limit"].endswith("(default: none)")
    assert "Spider note: Fetches the details of notes" in done.stdout


def test_help_for_an_unknown_spider_is_one_line_and_exit_2():
    done = run_scrapy(["crawl", "feeds", "-h"])

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "Error: Unknown spider 'feeds'. Did you mean 'feed'? The spiders are: comments, feed, note, search, topic, user."
    ]


@pytest.mark.parametrize("name", ["feed", "note"])
def test_help_and_the_argument_check_read_the_same_declaration(name):
    """The names -h lists are those the spider accepts: one declaration, no copy."""
    settings = crawl_settings(get_project_settings())
    spidercls = get_spider_loader(settings).load(name)
    listed = [line.split()[0] for line in argument_lines(spidercls.parse_arguments, settings)
              if line.startswith("  ") and not line.startswith("   ")]
    refusal = spidercls(nonsense="1").argument_error
    assert refusal is not None
    assert refusal.endswith(f"takes {', '.join(listed)}.")
    keyword_only = [p.name for p in inspect.signature(spidercls.parse_arguments).parameters.values()
                    if p.kind is p.KEYWORD_ONLY]
    assert listed == keyword_only


def test_an_argument_without_its_meaning_is_refused():
    def parse_arguments(*, oid: str = "x") -> None: ...

    with pytest.raises(TypeError, match="'oid' is not Annotated"):
        argument_lines(parse_arguments, get_project_settings())
    assert argument_lines(FeedSpider.parse_arguments, crawl_settings(get_project_settings()))


def test_the_example_in_the_docs_is_what_help_prints():
    usage = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    example = usage.split("```\nSpider arguments (-a NAME=VALUE):\n", 1)[1].split("```", 1)[0]

    done = run_scrapy(["crawl", "feed", "-h"])

    assert "Spider arguments (-a NAME=VALUE):\n" + example in done.stdout


def test_help_shows_the_log_level_a_crawl_runs_at():
    done = run_scrapy(["crawl", "feed", "-h"])

    level = crawl_settings(get_project_settings())["LOG_LEVEL"]
    assert level == "INFO"  # the add-on's; Scrapy's own default is DEBUG
    assert re.search(r"--loglevel LEVEL\s+log level \(default: INFO\)", done.stdout), done.stdout
