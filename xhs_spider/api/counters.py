"""Xiaohongshu display counters ("1.2万", "10+", "3456") as integers.

A counter is a non-negative integer that fits a signed 64-bit integer, the
widest integer both stores hold (SQLite INTEGER, BSON int64). Anything else
the API may send is not a counter and gives ``None``: negative numbers,
booleans, integers or display texts beyond 2**63 - 1 ("99999999999999999999",
10**20, 1e300), ±Infinity and NaN. Callers that keep the raw text of a
counter (a feed card's ``likes_text``) take it from :func:`counter_text`.
"""

from __future__ import annotations

import math
import re

#: The largest counter kept: SQLite INTEGER and BSON int64 hold no more.
INT64_MAX = 2**63 - 1

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
        return value if 0 <= value <= INT64_MAX else None
    if isinstance(value, float):
        return _in_range(value)
    if not isinstance(value, str):
        return None
    match = _COUNTER.match(value)
    if match is None:
        return None
    number, unit = match.groups()
    # float() of 400 digits is inf: checked before rounding.
    return _in_range(float(number) * _MULTIPLIERS[unit])


def _in_range(value: float) -> int | None:
    if not math.isfinite(value) or not 0 <= value <= INT64_MAX:
        return None
    counter = round(value)
    return counter if counter <= INT64_MAX else None


def counter_text(value: object) -> str | None:
    """The counter as the API wrote it, when it is not a plain integer counter
    (``None`` for those, and for values that are no counter text at all).

    "1.2万" stays "1.2万"; an integer beyond 64 bits becomes its decimal text;
    a float its shortest text ("1e+300", "inf", "nan").
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if 0 <= value <= INT64_MAX:
            return None
        try:
            return str(value)
        except ValueError:  # beyond sys.get_int_max_str_digits()
            return None
    if isinstance(value, float):
        return repr(value)
    return value if isinstance(value, str) else None
