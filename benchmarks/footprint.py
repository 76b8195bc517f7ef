"""Cases about what a crawl keeps and pays: memory over a long crawl, calls
per note, and the embedded store's cost against a baseline commit."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.measures import NOTES, half_rates, median, rss_growth, whole_seconds
from benchmarks.runner import ROOT, CrawlRun, project_command, run_crawl
from benchmarks.store_and_crawl import checkout, crawl_throughput
from benchmarks.suite import CaseResult, Suite, run_summary

#: A 100,000-note crawl at DEBUG would log every item: gigabytes of log.
QUIET = {"LOG_LEVEL": "INFO"}


def memory_case(suite: Suite) -> CaseResult:
    """One long crawl (feed pages and details into the embedded SQLite
    store), its RSS sampled from /proc; notes/s from the sandbox's counts."""
    suite.configure()
    pages = suite.notes.pages_for(suite.plan.memory_notes)
    print(f"    one crawl of {pages} pages × {len(suite.plan.channels)} channels", flush=True)
    run = suite.project("project defaults", pages, QUIET)
    by_second = run.by_second
    first, second = half_rates(by_second, NOTES)
    growth, at_middle, at_end = rss_growth(run.rss_samples, whole_seconds(by_second))
    peak_mb = run.peak_rss_kb / 1024
    notes = run.sandbox.get("billed_by_endpoint", {}).get("detail", 0)
    # No note in the first half (a run too short to measure): no verdict can pass.
    change = second / first - 1 if first else None
    change_text = f"{100 * change:+.1f} %" if change is not None else "n/a"
    return CaseResult(
        name="memory", title=f"memory: a {notes:,}-note crawl (feed pages and details, embedded SQLite store)",
        measured=(f"peak RSS {peak_mb:.0f} MB, second-half RSS growth {100 * growth:+.1f} %, "
                  f"notes/s {first:.1f} then {second:.1f} ({change_text})"),
        baseline="-",
        target="peak RSS < 250 MB, growth < 5 %, halves within 10 %",
        met=peak_mb < 250 and growth < 0.05 and change is not None and abs(change) <= 0.10,
        figures={"notes": notes, "pages": pages, "peak_rss_mb": round(peak_mb, 1),
                 "rss_middle_mb": round(at_middle / 1024, 1), "rss_end_mb": round(at_end / 1024, 1),
                 "second_half_rss_growth": round(growth, 4), "first_half_notes_per_s": round(first, 2),
                 "second_half_notes_per_s": round(second, 2), "notes_per_s_change": None if change is None else round(change, 4),
                 "seconds": len(whole_seconds(by_second)),
                 "rss_samples_mb": [(round(when, 2), round(kb / 1024, 1)) for when, kb in run.rss_samples[::8]]},
        runs=[run_summary(run)],
    )


def notes_on_fetched_pages(suite: Suite, run: CrawlRun) -> set[str]:
    """The distinct notes of every feed page the sandbox billed in *run*."""
    notes: set[str] = set()
    for key in run.sandbox.get("feed_billed_by_page", {}):
        oid, _, page = key.rpartition(":")
        notes.update(suite.page_note_ids(oid, int(page)))
    return notes


def cost_case(suite: Suite) -> CaseResult:
    """A first run into an empty store, then the same crawl again within
    XHS_DETAIL_TTL: detail calls per note, counted by the sandbox."""
    suite.configure()
    pages = suite.plan.cost_pages
    with tempfile.TemporaryDirectory(prefix="xhs-bench-cost-") as work:
        settings = {**QUIET, "XHS_STORE_URI": f"sqlite:///{Path(work) / 'notes.sqlite3'}"}
        runs = [run_crawl(label, project_command(suite.sandbox.url, suite.plan.oid, pages, settings), suite.sandbox)
                for label in ("first run", "re-run within the TTL")]
    figures = []
    for run in runs:
        notes = len(notes_on_fetched_pages(suite, run))
        details = run.sandbox.get("calls_by_endpoint", {}).get("detail", 0)
        figures.append({"notes_on_feed_pages": notes, "detail_calls": details,
                        "feed_calls": run.sandbox.get("calls_by_endpoint", {}).get("feed", 0),
                        "detail_calls_per_note": round(details / notes, 4) if notes else 0.0})
    first, again = figures
    return CaseResult(
        name="cost", title=f"cost: detail calls per note, {pages} pages × {len(suite.plan.channels)} channels, run twice",
        measured=(f"first run {first['detail_calls_per_note']:.2f} detail calls/new note "
                  f"({first['detail_calls']}/{first['notes_on_feed_pages']}); re-run "
                  f"{again['detail_calls']} detail calls ({again['feed_calls']} feed calls)"),
        baseline="-",
        target="1.00 per new note on a first run, 0 on a re-run within the TTL",
        met=first["detail_calls_per_note"] == 1.0 and again["detail_calls"] == 0,
        figures={"first_run": first, "re_run": again},
        runs=[run_summary(run, **figure) for run, figure in zip(runs, figures, strict=True)],
    )


def storage_case(suite: Suite) -> CaseResult:
    """benchmarks.store_and_crawl's crawl, with the embedded store, this code
    against a baseline commit (and without the store, for its cost)."""
    suite.configure()
    plan = suite.plan
    rates: dict[str, list[float]] = {"baseline": [], "this code": [], "this code, no store": []}
    with checkout(plan.baseline) as baseline, tempfile.TemporaryDirectory() as work:
        for number in range(plan.rounds):
            order = list(rates) if number % 2 == 0 else list(reversed(rates))
            for name in order:
                uri = None if name.endswith("no store") else f"sqlite:///{Path(work) / f'{name}{number}.sqlite3'}"
                code = baseline if name == "baseline" else ROOT
                rate, notes = crawl_throughput(suite.sandbox.url, plan.storage_pages, uri, code, plan.oid)
                print(f"    round {number + 1} {name}: {rate:.1f} notes/s ({notes} notes)", flush=True)
                rates[name].append(rate)
    this, baseline_rate, bare = (median(rates[name]) for name in ("this code", "baseline", "this code, no store"))
    return CaseResult(
        name="storage", title=f"storage: crawl with the embedded store, {plan.storage_pages} pages × {len(plan.channels)} channels",
        measured=f"{this:.1f} notes/s ({this / baseline_rate:.2f} of baseline); without the store {bare:.1f} notes/s",
        baseline=f"commit {plan.baseline}: {baseline_rate:.1f} notes/s",
        target="-", met=None,
        figures={"this_notes_per_s": this, "baseline_notes_per_s": baseline_rate,
                 "no_store_notes_per_s": bare, "ratio": round(this / baseline_rate, 3),
                 "storage_cost": round(1 - this / bare, 3), "rates": rates},
    )

