"""One name per command: the names the docs use, from the project and from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_scrapy

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

XHS_SPIDER = Path(sys.executable).parent / "xhs-spider"
#: The project's commands whose names hold a dash (entry points only).
DASHED = ("crawl-summary", "replay-spill")


def listed_commands(help_text: str) -> list[str]:
    """The names under ``Available commands:`` in ``scrapy -h``."""
    section = help_text.split("Available commands:", 1)[1].split("Use \"scrapy", 1)[0]
    return [line.split()[0] for line in section.splitlines()
            if line.startswith("  ") and not line.startswith("  [")]


def run_xhs_spider(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("JUSTONEAPI_", "XHS_", "SCRAPY_"))}
    return subprocess.run([str(XHS_SPIDER), *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=120, check=False)


def assert_one_name_each(names: list[str]) -> None:
    assert set(DASHED) <= set(names), names
    assert {"crawl", "settings", "export", "report", "channels"} <= set(names), names
    spellings = [name.replace("_", "-") for name in names]
    assert sorted(spellings) == sorted(set(spellings)), names  # no crawl_summary beside crawl-summary


def test_xhs_spider_lists_each_command_once_from_anywhere(tmp_path):
    done = run_xhs_spider("-h", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert_one_name_each(listed_commands(done.stdout))


def test_scrapy_lists_each_command_once_in_the_project():
    done = run_scrapy(["-h"])

    assert done.returncode == 0, done.stderr
    assert "active project: xhs_spider" in done.stdout
    assert_one_name_each(listed_commands(done.stdout))


@pytest.mark.parametrize("command", DASHED)
def test_the_dashed_commands_run_from_the_project_and_from_anywhere(tmp_path, command):
    for done in (run_scrapy([command, "-h"]), run_xhs_spider(command, "-h", cwd=tmp_path)):
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"scrapy {command} " in done.stdout  # its own usage line, not "Unknown command"
