"""Parsing spider arguments (``-a name=value``), which always arrive as text."""

from __future__ import annotations

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SpiderArgumentError(ValueError):
    """A spider argument the user must correct; its message says how."""


def parse_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SpiderArgumentError(f"-a {name}={value!r}: expected true or false.")


def parse_int(name: str, value: object, *, minimum: int, maximum: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not minimum <= number <= maximum:
        raise SpiderArgumentError(
            f"-a {name}={value!r}: expected a whole number from {minimum} to {maximum}."
        )
    return number
