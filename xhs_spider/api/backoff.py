"""Slowing a download slot down while the API answers 302 (rate limited)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot


def exponential_delay(base: float, attempt: int, maximum: float) -> float:
    """*base* seconds before the first retry (attempt 1), doubling, capped."""
    return min(maximum, base * 2 ** (attempt - 1))


class SlotBackoff:
    """Exponential backoff of a slot's delay, recovered gradually.

    The API answers 302 with HTTP 200 and a tiny body, which AutoThrottle
    reads as a fast success and would speed the crawl up. Each 302 doubles a
    penalty (from *start* up to *maximum*) that the slot's delay never goes
    below; each success shrinks it by *recovery* until it falls under *start*.
    If AutoThrottle moved the delay meanwhile, the penalty only floors it;
    otherwise the delay comes down with the penalty, to *base_delay*.
    """

    def __init__(
        self, start: float, maximum: float, recovery: float, base_delay: float
    ):
        if start <= 0 or maximum < start:
            raise ValueError("need 0 < start <= maximum")
        if not 0 < recovery < 1:
            raise ValueError("recovery must be between 0 and 1")
        self.start = start
        self.maximum = maximum
        self.recovery = recovery
        self.base_delay = base_delay
        self._penalties: dict[str, float] = {}
        #: The delay this class last gave each slot.
        self._imposed: dict[str, float] = {}

    def penalty(self, key: str) -> float:
        return self._penalties.get(key, 0.0)

    def rate_limited(self, key: str, slot: Slot) -> float:
        penalty = min(self.maximum, max(self.start, self.penalty(key) * 2))
        self._penalties[key] = penalty
        slot.delay = max(slot.delay, penalty)
        self._imposed[key] = slot.delay
        return penalty

    def succeeded(self, key: str, slot: Slot) -> None:
        penalty = self._penalties.get(key)
        if penalty is None:
            return
        penalty *= self.recovery
        if penalty < self.start:
            del self._penalties[key]
            penalty = 0.0
        else:
            self._penalties[key] = penalty
        if slot.delay == self._imposed.get(key):
            # Nobody else (AutoThrottle) moved the delay since: bring it down.
            slot.delay = max(self.base_delay, penalty)
        else:
            # AutoThrottle adjusts it: the penalty is only a floor.
            slot.delay = max(slot.delay, penalty)
        self._imposed[key] = slot.delay
