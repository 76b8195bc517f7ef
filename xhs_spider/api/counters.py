"""Xiaohongshu display counters ("1.2万", "10+", "3456") as integers."""

from __future__ import annotations

import re

_COUNTER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([万千wWkK亿]?)\s*\+?\s*$")
_MULTIPLIERS = {
    "": 1,
    "千": 1_000,
    "k": 1_000,
    "K": 1_000,
    "万": 10_000,
    "w": 10_000,
    "W": 10_000,
    "亿": 100_000_000,
}


def parse_counter(value: object) -> int | None:
    """The integer a counter stands for; ``None`` when it is not a counter.

    "10+" means at least 10, so it gives 10; "1.2万" gives 12000.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _COUNTER.match(value)
    if match is None:
        return None
    number, unit = match.groups()
    return round(float(number) * _MULTIPLIERS[unit])
