"""The sandbox's ``--help`` reads as plain text, without reST markup."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration


def test_help_is_plain_text():
    # The sandbox is not installed with the crawler: it runs from a checkout.
    done = subprocess.run([sys.executable, "-m", "sandbox", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert "Command line: python -m sandbox --port 0 [options]." in done.stdout
    assert "`" not in done.stdout
