"""The rate-limit middleware's own pace: a known cap held smoothly, an unknown
one found from 302s."""

from __future__ import annotations

import pytest

from xhs_spider.middlewares.rate_limit import CONGESTION_HOLD, ApiPace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_cap_and_no_302_never_waits() -> None:
    pace = ApiPace(None, backoff=0.5, recovery=1.0, clock=Clock())
    assert [pace.reserve() for _ in range(100)] == [0.0] * 100
    assert pace.rate is None


def test_a_known_cap_spaces_calls_evenly() -> None:
    clock = Clock()
    pace = ApiPace(20.0, backoff=0.5, recovery=1.0, clock=clock)
    waits = [pace.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.05, 0.10, 0.15, 0.20])
    clock.now += 10  # idle: no burst saved up beyond one call
    assert pace.reserve() == 0.0 and pace.reserve() == pytest.approx(0.05)


def test_302s_of_one_burst_are_one_event_and_the_rate_grows_back_by_steps() -> None:
    clock = Clock()
    pace = ApiPace(None, backoff=0.5, recovery=2.0, clock=clock)
    for _ in range(40):  # 40 calls in one second
        pace.reserve()
        clock.now += 0.025
    assert pace.congested() is True
    assert [pace.congested() for _ in range(7)] == [False] * 7  # the same burst
    assert pace.rate == pytest.approx(20.0, rel=0.1)
    first = pace.rate or 0.0
    clock.now += CONGESTION_HOLD + 3
    assert pace.rate == pytest.approx(first + 2.0 * 3)  # additive, after the hold
    assert pace.congested() is True and pace.events == 2
    assert pace.rate == pytest.approx((first + 6.0) * 0.5)


def test_a_learned_rate_gives_way_to_the_cap_once_it_grows_past_it() -> None:
    clock = Clock()
    pace = ApiPace(10.0, backoff=0.5, recovery=5.0, clock=clock)
    pace.congested()
    assert pace.rate == 5.0
    clock.now += CONGESTION_HOLD + 2
    assert pace.rate == 10.0 and pace.learned is None
