"""``scrapy channels``: a command, so a subprocess."""

from __future__ import annotations

import re

import pytest

from tests.conftest import run_scrapy

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration


def test_channels_command_lists_all_41():
    done = run_scrapy(["channels"])
    assert done.returncode == 0
    lines = [line for line in done.stdout.splitlines() if line.startswith("homefeed_")]
    assert len(lines) == 41
    assert any(re.match(r"homefeed_food_v3\s+food$", line) for line in lines)
