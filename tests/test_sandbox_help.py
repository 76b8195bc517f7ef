"""The sandbox's ``--help`` reads as plain text, without reST markup."""

from __future__ import annotations

import subprocess
import sys

from xhs_spider.run.readable import plain_text


def test_help_is_plain_text():
    done = subprocess.run([sys.executable, "-m", "xhs_spider.sandbox", "--help"],
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert "Command line: python -m xhs_spider.sandbox --port 0 [options]." in done.stdout
    assert "`" not in done.stdout


def test_plain_text_drops_literals_and_roles():
    assert plain_text("Run ``make demo``; see :mod:`xhs_spider.sandbox` and :class:`~a.B`.") == (
        "Run make demo; see xhs_spider.sandbox and a.B."
    )
