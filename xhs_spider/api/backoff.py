"""How long to wait before retrying: exponential, capped."""

from __future__ import annotations


def exponential_delay(base: float, attempt: int, maximum: float) -> float:
    """*base* seconds before the first retry (attempt 1), doubling, capped."""
    return min(maximum, base * 2 ** (attempt - 1))
