"""Throughput cases: a rate cap the crawl is or is not told about, answers
that take 500 ms, and answers that take no time (the crawl's own CPU)."""

from __future__ import annotations

from benchmarks.measures import BILLED, halves, median, second_half_rate, share_302
from benchmarks.runner import CrawlRun
from benchmarks.suite import (
    PROJECT_LOG_LEVEL,
    CaseResult,
    NoteCounter,
    Suite,
    interleaved,
    run_summary,
)

#: Feed pages per channel in the runs that last a fixed time: more calls than
#: the run can make, so the crawl never runs out of work before it is stopped.
SPARE_WORK = 1.5


def timed(suite: Suite) -> dict[str, str]:
    return {"CLOSESPIDER_TIMEOUT": str(suite.plan.duration)}


def pages_for_calls(notes: NoteCounter, calls_per_second: float, duration: float) -> int:
    # About one feed call for every 7 detail calls: notes are most of the calls.
    return notes.pages_for(int(calls_per_second * duration * SPARE_WORK))


def rate_figures(run: CrawlRun) -> dict[str, float]:
    by_second = run.by_second
    return {
        "second_half_successful_calls_per_s": round(second_half_rate(by_second, BILLED), 2),
        "share_302": round(share_302(by_second), 4),
        "second_half_share_302": round(share_302(by_second, halves(by_second)[1]), 4),
    }


def rate_cases(suite: Suite) -> list[CaseResult]:
    """The cap unknown to the crawl, and told with JUSTONEAPI_MAX_RPS, in
    interleaved rounds against one sandbox that answers 302 above the cap."""
    cap = suite.plan.rate_limit
    suite.configure(rate_limit=cap)
    pages = pages_for_calls(suite.notes, cap, suite.plan.duration)
    runs = interleaved(suite.plan.rounds, {
        "unknown cap": lambda label: suite.project(label, pages, timed(suite)),
        f"JUSTONEAPI_MAX_RPS={cap:g}": lambda label: suite.project(
            label, pages, {**timed(suite), "JUSTONEAPI_MAX_RPS": f"{cap:g}"}),
    })
    unknown, told = runs.values()
    return [
        rate_result("unknown_cap", f"unknown cap: sandbox --rate-limit {cap:g}, no setting tells the crawl",
                    cap, unknown, minimum_share=0.80, most_302=0.10, strict=False),
        rate_result("max_rps", f"JUSTONEAPI_MAX_RPS={cap:g} against that cap",
                    cap, told, minimum_share=0.95, most_302=0.01, strict=True),
    ]


def rate_result(name: str, title: str, cap: float, runs: list[CrawlRun], *,
                minimum_share: float, most_302: float, strict: bool) -> CaseResult:
    figures = [rate_figures(run) for run in runs]
    rate = median([figure["second_half_successful_calls_per_s"] for figure in figures])
    share = median([figure["share_302"] for figure in figures])
    below = share < most_302 if strict else share <= most_302
    sign = "<" if strict else "≤"
    return CaseResult(
        name=name, title=title,
        measured=f"{rate:.1f} successful calls/s ({rate / cap:.2f} of cap), {100 * share:.1f} % answered 302",
        baseline=f"ideal {cap:g} successful calls/s",
        target=f"≥{minimum_share:.2f} of cap, {sign}{100 * most_302:g} % 302",
        met=rate >= minimum_share * cap and below,
        figures={"cap": cap, "successful_calls_per_s": rate, "ratio_to_cap": round(rate / cap, 3),
                 "share_302": share},
        runs=[run_summary(run, **figure) for run, figure in zip(runs, figures, strict=True)],
    )


def latency_case(suite: Suite) -> CaseResult:
    """Answers take 500 ms: the crawl at 16 concurrent requests against the
    bare spider at 16, and the project's defaults for reference."""
    latency = suite.plan.latency
    suite.configure(latency=latency)
    pages = pages_for_calls(suite.notes, 16 / latency, suite.plan.duration)
    sixteen = {"CONCURRENT_REQUESTS": "16"}
    runs = interleaved(suite.plan.rounds, {
        "project CONCURRENT_REQUESTS=16": lambda label: suite.project(label, pages, {**timed(suite), **sixteen}),
        "bare spider, 16 concurrent": lambda label: suite.bare(
            label, pages, {**timed(suite), **sixteen, "CONCURRENT_REQUESTS_PER_DOMAIN": "16"}),
        "project defaults": lambda label: suite.project(label, pages, timed(suite)),
    })
    rates = {name: [second_half_rate(run.by_second) for run in group] for name, group in runs.items()}
    target, bare, defaults = (median(values) for values in rates.values())
    ratio = target / bare if bare else 0.0
    return CaseResult(
        name="latency_bound", title=f"latency-bound: every answer takes {latency * 1000:g} ms, CONCURRENT_REQUESTS=16",
        measured=f"{target:.1f} calls/s ({ratio:.2f} of bare); project defaults {defaults:.1f} calls/s",
        baseline=f"bare spider at 16 concurrent: {bare:.1f} calls/s",
        target="≥0.90 of the bare spider's rate",
        met=ratio >= 0.90,
        figures={"project_16_calls_per_s": target, "bare_16_calls_per_s": bare,
                 "project_defaults_calls_per_s": defaults, "ratio": round(ratio, 3),
                 "ideal_calls_per_s": 16 / latency},
        runs=[run_summary(run, second_half_successful_calls_per_s=round(rate, 2))
              for name, group in runs.items() for run, rate in zip(group, rates[name], strict=True)],
    )


def cpu_figures(run: CrawlRun) -> dict[str, float]:
    calls = run.sandbox.get("calls", 0)
    return {
        "second_half_calls_per_s": round(second_half_rate(run.by_second, ("calls",)), 2),
        "cpu_ms_per_call": round(1000 * run.cpu_seconds / calls, 3) if calls else 0.0,
        "notes": run.sandbox.get("billed_by_endpoint", {}).get("detail", 0),
    }


def cpu_case(suite: Suite) -> CaseResult:
    """No latency, thousands of notes: each at its default settings, both at
    the project's default log level, the project's calls per second against
    the bare spider's."""
    suite.configure()
    pages = suite.notes.pages_for(suite.plan.cpu_notes)
    runs = interleaved(suite.plan.rounds, {
        "project defaults": lambda label: suite.project(label, pages),
        "bare spider defaults": lambda label: suite.bare(label, pages),
    })
    figures = {name: [cpu_figures(run) for run in group] for name, group in runs.items()}
    project, bare = ({key: median([figure[key] for figure in group]) for key in group[0]}
                     for group in figures.values())
    ratio = project["second_half_calls_per_s"] / bare["second_half_calls_per_s"] if bare["second_half_calls_per_s"] else 0.0
    return CaseResult(
        name="cpu_bound", title=f"CPU-bound: no latency, {project['notes']:.0f} notes ({pages} pages × {len(suite.plan.channels)} channels)",
        measured=(f"{project['second_half_calls_per_s']:.1f} calls/s ({ratio:.2f} of bare), "
                  f"{project['cpu_ms_per_call']:.2f} CPU ms/call"),
        baseline=(f"bare spider: {bare['second_half_calls_per_s']:.1f} calls/s, "
                  f"{bare['cpu_ms_per_call']:.2f} CPU ms/call"),
        target=f"≥0.80 of the bare spider's calls/s, both at the project's default log level ({PROJECT_LOG_LEVEL})",
        met=ratio >= 0.80,
        figures={"project": project, "bare": bare, "ratio": round(ratio, 3), "pages": pages},
        runs=[run_summary(run, **figure) for name, group in runs.items()
              for run, figure in zip(group, figures[name], strict=True)],
    )
