"""Fault injection policy: which call fails, how, and the bodies of failures.

Decisions are a pure function of (seed, logical request, attempt number), so
a run is reproducible, and a per-request streak counter guarantees that a
client retrying the same request eventually gets the real answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.data import stable_fraction

MALFORMED = "malformed"
TRUNCATED = "truncated"
HTML = "html"
REDIRECT = "redirect"  # HTTP 302 to the same URL, token and all, as a misconfigured proxy does
DATALOSS = "dataloss"  # the connection drops before the announced Content-Length
BUSINESS_CODE = "code"
HTTP_FAULT_KINDS = (MALFORMED, TRUNCATED, HTML, REDIRECT, DATALOSS)

#: Odd values injected into otherwise good answers (see :mod:`odd_values`).
ODD_VALUE_KINDS = (
    "surrogate", "huge_int", "huge_float", "infinity", "nan", "numeric_string",
    "ms_timestamp", "us_timestamp", "absurd_timestamp", "id_whitespace", "deep_nesting",
)

MALFORMED_BODIES = (
    b'{"code":0,"data":[{',
    b"upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    b'{"code":0,"message":null,"data":{"noteId":"',
    b"<!-- gateway cache miss -->",
    b"",
)
HTML_ERROR_TITLES = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}


@dataclass(frozen=True)
class FaultRates:
    codes: dict[int, float] = field(default_factory=dict)
    malformed: float = 0.0
    truncated: float = 0.0
    html: float = 0.0
    redirect: float = 0.0
    dataloss: float = 0.0
    max_consecutive: int = 2

    def shares(self) -> list[tuple[str, int | None, float]]:
        """(kind, business code, share) in a fixed order, so draws are reproducible."""
        ordered: list[tuple[str, int | None, float]] = [
            (BUSINESS_CODE, code, share) for code, share in sorted(self.codes.items())
        ]
        ordered += [(MALFORMED, None, self.malformed), (TRUNCATED, None, self.truncated), (HTML, None, self.html)]
        ordered += [(REDIRECT, None, self.redirect), (DATALOSS, None, self.dataloss)]
        return ordered


@dataclass(frozen=True)
class InjectedFault:
    kind: str
    code: int | None
    http_status: int
    variant: float  # a stable number in [0, 1) to pick bodies and cut points


def business_http_status(code: int, variant: float) -> int:
    if code == 100:
        return 401
    if code == 503:
        return 503
    if code == 500:
        # The vendor answers some internal errors as HTTP 500, others as 200.
        return 500 if variant < 0.5 else 200
    return 200


class FaultInjector:
    """Draws faults per logical request and caps consecutive faults per request."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._attempts: dict[str, int] = {}
        self._streaks: dict[str, int] = {}

    def reset(self) -> None:
        self._attempts.clear()
        self._streaks.clear()

    def decide(self, request_key: str, rates: FaultRates) -> InjectedFault | None:
        attempt = self._attempts.get(request_key, 0)
        self._attempts[request_key] = attempt + 1
        fault = None
        if self._streaks.get(request_key, 0) < rates.max_consecutive:
            fault = self._draw(request_key, attempt, rates)
        if fault is None:
            self._streaks.pop(request_key, None)
        else:
            self._streaks[request_key] = self._streaks.get(request_key, 0) + 1
        return fault

    def _draw(self, request_key: str, attempt: int, rates: FaultRates) -> InjectedFault | None:
        roll = stable_fraction(self.seed, "fault", request_key, attempt)
        variant = stable_fraction(self.seed, "fault-variant", request_key, attempt)
        threshold = 0.0
        for kind, code, share in rates.shares():
            threshold += share
            if roll < threshold:
                return InjectedFault(kind, code, self._http_status(kind, code, variant), variant)
        return None

    @staticmethod
    def _http_status(kind: str, code: int | None, variant: float) -> int:
        if kind == BUSINESS_CODE and code is not None:
            return business_http_status(code, variant)
        if kind == HTML:
            return 502 if variant < 0.5 else 503
        if kind == REDIRECT:
            return 302
        return 200


def note_code(seed: int, note_id: str, shares: dict[int, float]) -> int | None:
    """The code every detail call of *note_id* answers (``note_codes``), if any."""
    roll = stable_fraction(seed, "note-code", note_id)
    threshold = 0.0
    for code, share in sorted(shares.items()):
        threshold += share
        if roll < threshold:
            return code
    return None


def malformed_body(variant: float) -> bytes:
    return MALFORMED_BODIES[int(variant * len(MALFORMED_BODIES))]


def html_error_page(status: int) -> bytes:
    title = HTML_ERROR_TITLES.get(status, "%d Error" % status)
    return (
        "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" % (title, title)
    ).encode("ascii")


def truncate_body(body: bytes, variant: float) -> bytes:
    """Cut a JSON body between 20% and 80% of its characters.

    The cut falls on a character boundary so the failure is "not JSON", not
    "not UTF-8"; any strict prefix of a JSON object is invalid JSON.
    """
    text = body.decode("utf-8")
    keep = max(1, min(len(text) - 1, int(len(text) * (0.2 + 0.6 * variant))))
    return text[:keep].encode("utf-8")


class TokenBucket:
    """Requests-per-second limiter with a burst of max(1, rate)."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._clock = clock
        self._tokens = self.capacity
        self._last = clock()

    def try_take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
