"""The fast loop (``make check``: ``-m "not integration"``) cannot take in a
test that starts a process: conftest.py fails such a test unless it is marked."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_an_unmarked_test_cannot_start_a_process() -> None:
    with pytest.raises(AssertionError, match="mark it integration"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)


@pytest.mark.integration
def test_a_marked_test_can() -> None:
    assert subprocess.run([sys.executable, "-c", "pass"], check=True).returncode == 0

