"""Values that every store and the journal can hold, whatever a record carries.

Normalisation (:mod:`xhs_spider.api.normalize`) already gives items only
such values; this is the last line of defence behind it, applied where
records leave for SQLite, MongoDB or a journal or spill file. A record that
slipped through with an odd value is stored with that value changed, never
refused, so it cannot take its batch, the spill or a replay down:

* a lone surrogate in a string (or a key) becomes U+FFFD: UTF-8, which
  SQLite, BSON and the JSON Lines files use, cannot encode it;
* an integer beyond the signed 64-bit range becomes its decimal text:
  SQLite INTEGER and BSON int64 hold no more (a counter column gets null,
  see :func:`storable_counter`);
* ±Infinity and NaN become null: they are not JSON;
* a tuple becomes a list, a key a string, anything else that is not JSON
  its ``str()``; nesting deeper than :data:`MAX_DEPTH` becomes null.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Deeper than this, a value is stored as null (no record nests this deep).
MAX_DEPTH = 64

_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value: Any, depth: int = 0) -> Any:
    """*value* as JSON every store can hold (see the module docstring)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else _int_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {storable(str(key)): storable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(item, depth + 1) for item in value]
    return storable(str(value))


def json_text(value: Any) -> str:
    """*value* as compact JSON text that UTF-8 can hold, made storable only
    when it has to be: a walk through every value costs far more than the
    C encoder, and almost every record needs none. (Integers beyond 64 bits
    are valid JSON: the store's own columns catch them.)"""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        text.encode("utf-8")
    except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError is a ValueError
        text = json.dumps(storable(value), ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)
    return text


def storable_counter(value: Any) -> int | float | None:
    """A counter for an integer column: the number, or null when it is none
    or does not fit 64 bits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if INT64_MIN <= value <= INT64_MAX else None


def _int_text(value: int) -> str | None:
    try:
        return str(value)
    except ValueError:  # more digits than sys.get_int_max_str_digits()
        return None
