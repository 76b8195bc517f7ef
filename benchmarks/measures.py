"""Figures computed from the sandbox's per-second counts and the RSS samples.

The sandbox counts, for every epoch second, the calls it answered
(``calls``), the billed answers per endpoint (``billed/feed``,
``billed/detail``: the successful calls, codes 0 and 201) and the answers
per business code (``code/302``). A run's window is every second from its
first call to its last; the first and last seconds are partial (the crawl
started or stopped inside them), so they are left out; the window is cut in
two halves of whole seconds.
"""

from __future__ import annotations

from collections.abc import Iterable

BILLED = ("billed/feed", "billed/detail")
NOTES = ("billed/detail",)


def whole_seconds(by_second: dict[int, dict[str, int]]) -> list[int]:
    """Every second of the run but its first and last (partial) ones."""
    if not by_second:
        return []
    first, last = min(by_second), max(by_second)
    inner = list(range(first + 1, last))
    return inner or list(range(first, last + 1))


def halves(by_second: dict[int, dict[str, int]]) -> tuple[list[int], list[int]]:
    seconds = whole_seconds(by_second)
    middle = len(seconds) // 2
    return seconds[:middle], seconds[middle:]


def count(by_second: dict[int, dict[str, int]], seconds: Iterable[int], keys: Iterable[str]) -> int:
    keys = tuple(keys)
    return sum(by_second.get(second, {}).get(key, 0) for second in seconds for key in keys)


def rate(by_second: dict[int, dict[str, int]], seconds: list[int], keys: Iterable[str]) -> float:
    """Counts of *keys* per second over *seconds*."""
    return count(by_second, seconds, keys) / len(seconds) if seconds else 0.0


def second_half_rate(by_second: dict[int, dict[str, int]], keys: Iterable[str] = BILLED) -> float:
    return rate(by_second, halves(by_second)[1], keys)


def half_rates(by_second: dict[int, dict[str, int]], keys: Iterable[str]) -> tuple[float, float]:
    first, second = halves(by_second)
    return rate(by_second, first, keys), rate(by_second, second, keys)


def share_302(by_second: dict[int, dict[str, int]], seconds: Iterable[int] | None = None) -> float:
    """Share of the calls answered code 302 (over *seconds*, or the whole run)."""
    chosen = list(by_second) if seconds is None else list(seconds)
    calls = count(by_second, chosen, ("calls",))
    return count(by_second, chosen, ("code/302",)) / calls if calls else 0.0


def rss_growth(samples: list[tuple[float, int]], seconds: list[int]) -> tuple[float, int, int]:
    """RSS growth over the second half of *seconds*: (growth, kB at the
    middle, kB at the end), from the samples taken inside the window."""
    if not seconds or not samples:
        return 0.0, 0, 0
    start, end = seconds[0], seconds[-1] + 1
    inside = [(when, kb) for when, kb in samples if start <= when < end] or samples
    middle_time = start + (end - start) / 2
    at_middle = min(inside, key=lambda sample: abs(sample[0] - middle_time))[1]
    at_end = inside[-1][1]
    return (at_end - at_middle) / at_middle if at_middle else 0.0, at_middle, at_end


def median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
