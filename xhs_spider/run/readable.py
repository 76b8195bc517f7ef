"""Durations, rates and help texts as people read them: ``52.4 s``, ``2 min 5 s``, ``0.33/s``.

Every figure a log line or the run summary shows goes through here; the
stats and the ``runs`` table keep the exact numbers.
"""

from __future__ import annotations

import re

MINUTE = 60
HOUR = 60 * MINUTE


def number(value: float) -> str:
    """Three significant figures at most, no trailing zeros: 52.4288 → ``52.4``."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    text = f"{value:.1f}" if magnitude >= 10 else f"{value:.2f}"
    return text.rstrip("0").rstrip(".")


def duration(seconds: float) -> str:
    if seconds < MINUTE:
        return f"{number(seconds)} s"
    whole = round(seconds)
    if whole < HOUR:
        return f"{whole // MINUTE} min {whole % MINUTE} s"
    return f"{whole // HOUR} h {whole % HOUR // MINUTE} min"


def rate(value: float, per: str = "s") -> str:
    return f"{number(value)}/{per}"


def plain_text(docstring: str) -> str:
    """*docstring* without its reST markup (double backquotes, roles such as
    :mod:), for --help, which people read as plain text."""
    return re.sub(r"``(.+?)``|:\w+:`~?(.+?)`", lambda match: match.group(1) or match.group(2),
                  docstring)
