"""How fast the crawl may call the API: a known cap, and what 302s taught.

The API's limits are per token and per plan. When the user knows the plan's
cap (``JUSTONEAPI_MAX_RPS``), calls are paced to it smoothly: each call gets
the next free instant on a grid of ``1/cap`` seconds (the generic cell rate
algorithm, a token bucket of one), so the crawl holds the cap exactly while
concurrency covers the latency. When nobody knows the cap, code 302 says the
crawl went over it: the rate then drops once per *congestion event* (the 302s
of the calls already in flight belong to the same event), by a factor, and
grows back by a fixed step per second while no 302 comes, as TCP's additive
increase and multiplicative decrease do. The crawl so circles just under the
API's rate instead of crawling at a tenth of it for minutes.

:class:`ApiPace` is the local pacer; one shared by several workers (Redis)
needs only the same three methods.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

#: 302s within this long after a rate decrease answer calls sent before it.
CONGESTION_HOLD = 1.0
#: The window over which the rate being sent is measured, for the first 302.
SENDING_WINDOW = 2.0
#: Never slower than this many calls per second.
FLOOR = 0.2


class ApiPace:
    def __init__(
        self, cap: float | None, *, backoff: float, recovery: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        if cap is not None and cap <= 0:
            raise ValueError("cap must be above 0")
        self.cap = cap
        self.backoff = backoff
        self.recovery = recovery
        self.clock = clock
        #: The rate 302s taught, None until the first one (or once recovered past the cap).
        self.learned: float | None = None
        self.events = 0
        self._next_free = 0.0
        self._hold_until = 0.0
        self._grown_at = 0.0
        self._sent: deque[float] = deque()

    @property
    def rate(self) -> float | None:
        """Calls per second allowed now; None: as fast as the crawl goes."""
        self._recover(self.clock())
        if self.learned is None:
            return self.cap
        return self.learned if self.cap is None else min(self.cap, self.learned)

    def reserve(self) -> float:
        """Take the next call's place; the seconds to wait before sending it."""
        rate = self.rate
        now = self.clock()
        self._note_sent(now)
        if rate is None:
            return 0.0
        start = max(self._next_free, now)
        self._next_free = start + 1.0 / rate
        return start - now

    def congested(self) -> bool:
        """A 302 came back; whether it started a new congestion event."""
        now = self.clock()
        if now < self._hold_until:
            return False
        sending = self.rate or self._sending_rate(now)
        self.learned = max(FLOOR, sending * self.backoff)
        self.events += 1
        self._hold_until = self._grown_at = now + CONGESTION_HOLD
        return True

    def _recover(self, now: float) -> None:
        if self.learned is None or now <= self._grown_at:
            return
        self.learned += self.recovery * (now - self._grown_at)
        self._grown_at = now
        if self.cap is not None and self.learned >= self.cap:
            self.learned = None

    def _note_sent(self, now: float) -> None:
        self._sent.append(now)
        while self._sent and self._sent[0] < now - SENDING_WINDOW:
            self._sent.popleft()

    def _sending_rate(self, now: float) -> float:
        if len(self._sent) < 2:
            return 1.0 / CONGESTION_HOLD
        return len(self._sent) / max(now - self._sent[0], 1e-3)
