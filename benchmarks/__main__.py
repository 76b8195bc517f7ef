"""The benchmark suite: every case against its baseline, in one run.

    .venv/bin/python -m benchmarks [--quick] [--notes 100000] [--rounds 2]
        [--duration 40] [--baseline HEAD] [--cases a,b] [--json data/benchmarks.json]

Starts the offline sandbox, runs each case with its baseline in interleaved
rounds, prints a table and writes every figure (and every run) as JSON.
See docs/development.md#benchmarks for what each case measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from benchmarks.discovery_cpu import search_cpu_case
from benchmarks.export_memory import export_case
from benchmarks.footprint import cost_case, memory_case, storage_case
from benchmarks.runner import ROOT, TOKEN
from benchmarks.suite import CaseResult, NoteCounter, Plan, Suite
from benchmarks.throughput import cpu_case, latency_case, pages_for_calls, rate_cases
from benchmarks.workers import workers_case
from sandbox.data import CHANNELS
from sandbox.process import SandboxProcess

CASES: dict[str, Callable[[Suite], list[CaseResult]]] = {
    "rate": rate_cases,
    "latency": lambda suite: [latency_case(suite)],
    "cpu": lambda suite: [cpu_case(suite), search_cpu_case(suite)],
    "memory": lambda suite: [memory_case(suite)],
    "cost": lambda suite: [cost_case(suite)],
    "storage": lambda suite: [storage_case(suite)],
    "workers": workers_case,
    "export": lambda suite: [export_case(suite)],
}
#: Cases that may be named alone in ``--cases`` but are already part of a
#: group above (``cpu``), so the default run does not repeat them.
SINGLE_CASES: dict[str, Callable[[Suite], list[CaseResult]]] = {
    "cpu_search": lambda suite: [search_cpu_case(suite)],
}
KNOWN_CASES = {**CASES, **SINGLE_CASES}
#: Six topic channels, a few pages, one round: every case runs, none measures much.
QUICK = Plan(rounds=1, duration=3.0, cpu_notes=200, memory_notes=200, storage_pages=2, cost_pages=2,
             oid=",".join(CHANNELS[3:9]), export_notes=2000)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every case small: a smoke test, not a measurement")
    parser.add_argument("--notes", type=int, help=f"notes of the memory case (default {Plan.memory_notes:,})")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds of each comparison (default {Plan.rounds})")
    parser.add_argument("--duration", type=float, help=f"seconds of each timed run (default {Plan.duration:g})")
    parser.add_argument("--baseline", help="git commit the storage case compares with (default HEAD)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, of: " + ", ".join(KNOWN_CASES))
    parser.add_argument("--json", default=str(ROOT / "data" / "benchmarks.json"), help="where the results go")
    return parser.parse_args(argv)


def build_plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else Plan()
    given = {"memory_notes": args.notes, "rounds": args.rounds, "duration": args.duration,
             "baseline": args.baseline}
    return replace(plan, **{name: value for name, value in given.items() if value is not None})


def sandbox_pages(plan: Plan, notes: NoteCounter, cases: list[str]) -> int:
    """Pages each channel needs for the largest case selected."""
    needs = [plan.storage_pages, plan.cost_pages]
    if "memory" in cases:
        needs.append(notes.pages_for(plan.memory_notes))
    if "cpu" in cases or "cpu_search" in cases:
        needs.append(notes.pages_for(plan.cpu_notes))
    needs += [pages_for_calls(notes, plan.rate_limit, plan.duration),
              pages_for_calls(notes, 16 / plan.latency, plan.duration)]
    return max(needs)


def git_state() -> dict[str, object]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], check=False, cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "uncommitted_changes": bool(git("status", "--porcelain"))}


def print_table(results: list[CaseResult]) -> None:
    verdicts = {True: "met", False: "NOT met", None: "-"}
    rows = [("case", "measured", "baseline", "target", "verdict")]
    rows += [(result.name, result.measured, result.baseline, result.target, verdicts[result.met])
             for result in results]
    print()
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")


def run_cases(plan: Plan, cases: list[str]) -> list[CaseResult]:
    notes = NoteCounter(plan.seed, plan.channels)
    pages = sandbox_pages(plan, notes, cases)
    results: list[CaseResult] = []
    arguments = ("--seed", str(plan.seed), "--pages", str(pages), "--log-level", "WARNING")
    with SandboxProcess(*arguments, token=TOKEN) as sandbox:
        suite = Suite(sandbox=sandbox, plan=plan, notes=notes)
        for name in cases:
            print(f"== {name}", flush=True)
            started = time.monotonic()
            results += KNOWN_CASES[name](suite)
            print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = build_plan(args)
    cases = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = sorted(set(cases) - set(KNOWN_CASES))
    if unknown:
        print(f"unknown cases: {', '.join(unknown)}; known: {', '.join(KNOWN_CASES)}", file=sys.stderr)
        return 2
    started = time.time()
    results = run_cases(plan, cases)
    print_table(results)
    if args.quick:
        print("\n--quick: a smoke test of the suite; its figures are too small to judge anything by.")
    report = {
        "command": [sys.executable, "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)],
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "git": git_state(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "plan": asdict(plan),
        "quick": args.quick,
        "cases": {result.name: asdict(result) for result in results},
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
