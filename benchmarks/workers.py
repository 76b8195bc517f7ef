"""Worker processes sharing one Redis: total throughput with 1, 2 and 4
workers against answers that take 500 ms, and 4 workers holding one shared
``JUSTONEAPI_MAX_RPS``.

Every worker runs the same ``scrapy crawl feed`` command with the same
``REDIS_URL`` and ``XHS_CRAWL_ID`` into one SQLite store (one machine): they
share one crawl, its queue in Redis. N workers crawl N times as many feed pages
as one, so every variant runs about as long. The window measured is the time
all workers ran together (from the last start to the first exit), its second
half, counted by the sandbox.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.measures import BILLED, halves, median, rate, share_302
from benchmarks.runner import ROOT, CrawlRun, crawl_environment, project_command
from benchmarks.suite import CaseResult, Suite, interleaved, run_summary
from benchmarks.throughput import pages_for_calls, timed
from tests.redis_server import RedisServer

WORKER_COUNTS = (1, 2, 4)
#: Near-linear: N workers make at least this share of N times one worker's calls.
LINEAR_SHARE = 0.90
#: Seconds a worker waits on an empty shared queue before closing: short, the crawl is done.
IDLE_CLOSE = 3.0


#: Tries of a round whose last worker started only after the crawl had finished.
JOIN_TRIES = 3


def run_workers(suite: Suite, redis: RedisServer, label: str, count: int, pages: int,
                settings: dict[str, str]) -> CrawlRun:
    """*count* workers of one crawl at once; the sandbox's view of all of them.

    On a loaded machine a worker can take longer to start than the others
    take to finish the crawl; it is then refused (a finished crawl is not
    joined) and the round measured fewer workers than it says: run it again.
    """
    for attempt in range(1, JOIN_TRIES + 1):
        run, late = _workers_once(suite, redis, label, count, pages, settings)
        if not late:
            return run
        print(f"    {label}: {late} worker(s) started after the crawl had finished "
              f"(try {attempt} of {JOIN_TRIES})", flush=True)
    run.returncode = run.returncode or 1
    return run


def _workers_once(suite: Suite, redis: RedisServer, label: str, count: int, pages: int,
                  settings: dict[str, str]) -> tuple[CrawlRun, int]:
    """One round, and how many workers came too late to join it."""
    suite.sandbox.reset()
    flush = redis.client()
    flush.flushall()
    flush.close()
    crawl = {"REDIS_URL": redis.url, "XHS_CRAWL_ID": f"bench-{time.time_ns()}",
             "XHS_IDLE_CLOSE": f"{IDLE_CLOSE:g}", **timed(suite), **settings}
    with tempfile.TemporaryDirectory(prefix="xhs-bench-workers-") as work:
        processes, started = [], time.time()
        for number in range(count):
            store = {"XHS_STORE_URI": f"sqlite:///{Path(work) / 'shared.sqlite3'}",
                     "LOG_FILE": str(Path(work) / f"worker{number}.log")}
            command = project_command(suite.sandbox.url, suite.plan.oid, pages, {**crawl, **store})
            with (Path(work) / f"worker{number}.err").open("wb") as errors:
                processes.append(subprocess.Popen(command, cwd=ROOT, env=crawl_environment(),
                                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                  stderr=errors))
        last_start, first_exit = time.time(), 0.0
        while any(process.poll() is None for process in processes):
            if not first_exit and any(process.poll() is not None for process in processes):
                first_exit = time.time()
            time.sleep(0.1)
        first_exit = first_exit or time.time()
        tails = [_tail(Path(work), number) for number in range(count)]
    late = sum(process.returncode == 2 and "finished at" in tail
               for process, tail in zip(processes, tails, strict=True))
    failed = [number for number, process in enumerate(processes) if process.returncode]
    run = CrawlRun(label=label, returncode=max(process.returncode for process in processes),
                   wall_seconds=time.time() - started, cpu_seconds=0.0,
                   log_tail=tails[failed[0] if failed else 0])
    run.sandbox = suite.sandbox.stats()
    run.sandbox["together"] = [int(last_start) + 1, int(first_exit)]  # whole seconds
    return run, late


def _tail(work: Path, number: int) -> str:
    """The end of worker *number*'s log and of what it wrote to stderr."""
    text = ""
    for name in (f"worker{number}.log", f"worker{number}.err"):
        path = work / name
        if path.exists():
            text += path.read_text(encoding="utf-8", errors="replace")[-3000:]
    return text


def together(run: CrawlRun) -> list[int]:
    """The whole seconds in which every worker was running."""
    first, end = run.sandbox["together"]
    return [second for second in range(first, end) if second in run.by_second]


def worker_figures(run: CrawlRun) -> dict[str, float]:
    seconds = together(run)
    steady = halves({second: run.by_second[second] for second in seconds})[1]
    calls = [run.by_second[second].get("calls", 0) for second in seconds]
    return {
        "second_half_successful_calls_per_s": round(rate(run.by_second, steady, BILLED), 2),
        "busiest_second_calls": max(calls, default=0),
        "share_302": round(share_302(run.by_second, seconds), 4),
        "seconds_together": len(seconds),
    }


def workers_case(suite: Suite) -> list[CaseResult]:
    latency, cap = suite.plan.latency, suite.plan.rate_limit
    pages = pages_for_calls(suite.notes, 16 / latency, suite.plan.duration)

    def variant(count: int, capped: bool):
        def run(label: str) -> CrawlRun:
            suite.configure(latency=latency, rate_limit=cap if capped else None)
            settings = {"JUSTONEAPI_MAX_RPS": f"{cap:g}"} if capped else {}
            return run_workers(suite, redis, label, count, pages * count, settings)
        return run

    with tempfile.TemporaryDirectory(prefix="xhs-bench-redis-") as work, RedisServer(work) as redis:
        variants = {f"{count} worker{'s' * (count > 1)}": variant(count, False) for count in WORKER_COUNTS}
        variants[f"4 workers, JUSTONEAPI_MAX_RPS={cap:g}"] = variant(4, True)
        runs = interleaved(suite.plan.rounds, variants)
    figures = {name: [worker_figures(run) for run in group] for name, group in runs.items()}
    summaries = [[run_summary(run, **figure) for run, figure in zip(group, figures[name], strict=True)]
                 for name, group in runs.items()]
    groups = list(figures.values())
    return [scaling_result(groups[:3], latency, [run for runs in summaries[:3] for run in runs]),
            capped_result(groups[3], cap, summaries[3])]


def scaling_result(groups: list[list[dict[str, float]]], latency: float,
                   summaries: list[dict[str, object]]) -> CaseResult:
    rates = [median([figure["second_half_successful_calls_per_s"] for figure in group]) for group in groups]
    ratios = [value / rates[0] if rates[0] else 0.0 for value in rates]
    shown = ", ".join(f"{count}: {value:.1f}" for count, value in zip(WORKER_COUNTS, rates, strict=True))
    return CaseResult(
        name="workers_scaling",
        title=f"worker processes sharing one Redis, every answer {latency * 1000:g} ms, no cap",
        measured=(f"calls/s with {shown} workers; ×{ratios[1]:.2f} with 2, ×{ratios[2]:.2f} with 4"),
        baseline=f"1 worker: {rates[0]:.1f} calls/s",
        target=f"≥{LINEAR_SHARE:.2f} × N of one worker's",
        met=all(ratio >= LINEAR_SHARE * count for count, ratio in zip(WORKER_COUNTS, ratios, strict=True)),
        figures={"calls_per_s": dict(zip(map(str, WORKER_COUNTS), rates, strict=True)),
                 "ratio_to_one": dict(zip(map(str, WORKER_COUNTS), [round(r, 3) for r in ratios], strict=True))},
        runs=summaries,
    )


def capped_result(group: list[dict[str, float]], cap: float, summaries: list[dict[str, object]]) -> CaseResult:
    value = median([figure["second_half_successful_calls_per_s"] for figure in group])
    busiest = max(figure["busiest_second_calls"] for figure in group)
    share = median([figure["share_302"] for figure in group])
    return CaseResult(
        name="workers_shared_cap",
        title=f"4 workers sharing JUSTONEAPI_MAX_RPS={cap:g} through Redis, sandbox --rate-limit {cap:g}",
        measured=(f"{value:.1f} successful calls/s in total ({value / cap:.2f} of the cap), busiest second "
                  f"{busiest:.0f} calls, {100 * share:.1f} % answered 302"),
        baseline=f"ideal {cap:g} calls/s; 4 workers alone would each send up to it",
        target=f"≥0.95 of the cap, no second above {cap + 1:g}, <1 % 302",
        met=value >= 0.95 * cap and busiest <= cap + 1 and share < 0.01,
        figures={"cap": cap, "successful_calls_per_s": value, "ratio_to_cap": round(value / cap, 3),
                 "busiest_second_calls": busiest, "share_302": share},
        runs=summaries,
    )
