"""Durations and rates print rounded, in the helper and where people read them."""

from __future__ import annotations

import pytest

from xhs_spider.outcome.summary import format_summary, run_summary
from xhs_spider.run.readable import duration, number, plain_text, rate


@pytest.mark.parametrize(("value", "shown"), [
    (52.42880000000002, "52.4"), (0.30000000000000004, "0.3"), (80.0, "80"), (12.5, "12.5"),
    (1 / 3, "0.33"), (123.456, "123"), (0.0, "0"), (99.96, "100"),
])
def test_numbers_keep_three_figures_and_no_trailing_zeros(value, shown):
    assert number(value) == shown


@pytest.mark.parametrize(("seconds", "shown"), [
    (52.42880000000002, "52.4 s"), (0.25, "0.25 s"), (125.3, "2 min 5 s"), (3725, "1 h 2 min"),
])
def test_durations(seconds, shown):
    assert duration(seconds) == shown


def test_rates():
    assert rate(0.30000000000000004) == "0.3/s"
    assert rate(26.666666666666668, "min") == "26.7/min"


def test_the_run_summary_prints_durations_and_rates_rounded():
    summary = run_summary({"justoneapi/rate_limit/rate_min": 0.30000000000000004,
                           "justoneapi/rate_limit/events": 3}, "finished", {})
    summary["duration_seconds"] = 3725.4288000000002

    text = format_summary("run-1", summary)

    assert "finish reason  finished after 1 h 2 min" in text
    assert "(paced down to 0.3/s at the lowest)" in text
    assert "0000" not in text


def test_plain_text_drops_literals_and_roles():
    assert plain_text("Run ``make demo``; see :mod:`xhs_spider.run` and :class:`~a.B`.") == (
        "Run make demo; see xhs_spider.run and a.B."
    )
