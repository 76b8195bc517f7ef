"""What every case shares: the sandbox, the plan, crawls with a fresh store,
interleaved rounds, and the verdict of a case."""

from __future__ import annotations

import json
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.runner import CrawlRun, bare_command, project_command, run_crawl
from sandbox.data import CHANNELS, FeedUniverse
from sandbox.process import SandboxProcess
from xhs_spider.config.defaults import SCRAPY_SETTINGS

#: Scrapy's default is DEBUG; the project may set its own.
PROJECT_LOG_LEVEL = str(SCRAPY_SETTINGS.get("LOG_LEVEL", "DEBUG"))
#: The feed spider's own limit on -a pages.
MAX_PAGES = 1000


@dataclass(frozen=True)
class Plan:
    """How big each case is; ``--quick`` makes every case small."""

    rounds: int = 2
    #: Seconds each run of the rate-limited and latency-bound cases lasts
    #: (CLOSESPIDER_TIMEOUT): throughput there is a rate, not a job.
    duration: float = 40.0
    cpu_notes: int = 5_000
    memory_notes: int = 100_000
    #: Notes in the synthetic store of the export case.
    export_notes: int = 100_000
    storage_pages: int = 3
    cost_pages: int = 2
    rate_limit: float = 20.0
    latency: float = 0.5
    seed: int = 0
    baseline: str = "HEAD"
    #: Feed channels crawled: ``all`` (41), or a comma-separated few.
    oid: str = "all"

    @property
    def channels(self) -> list[str]:
        return list(CHANNELS) if self.oid == "all" else self.oid.split(",")


@dataclass
class CaseResult:
    name: str
    title: str
    measured: str
    baseline: str
    target: str
    met: bool | None
    figures: dict[str, Any] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)


class NoteCounter:
    """Distinct notes on pages 1..N of every channel, as the sandbox of this
    seed lays them out (the same generator, in this process)."""

    def __init__(self, seed: int, channels: list[str]) -> None:
        self.channels = channels
        self.universe = FeedUniverse(seed, MAX_PAGES)
        self.seen: set[str] = set()
        self.totals = [0]

    def _extend_to(self, pages: int) -> None:
        while len(self.totals) <= pages:
            for channel in self.channels:
                self.seen.update(self.universe.page_note_ids(channel, len(self.totals)))
            self.totals.append(len(self.seen))

    def pages_for(self, notes: int) -> int:
        """The fewest pages per channel that hold at least *notes* notes."""
        pages = 1
        while pages < MAX_PAGES:
            self._extend_to(pages)
            if self.totals[pages] >= notes:
                break
            pages += 1
        return pages

    def notes_on(self, pages: int) -> int:
        self._extend_to(pages)
        return self.totals[pages]


@dataclass
class Suite:
    sandbox: SandboxProcess
    plan: Plan
    notes: NoteCounter

    def configure(self, **config: Any) -> None:
        self.sandbox.configure(**{"rate_limit": None, "latency": 0.0, **config})

    def project(self, label: str, pages: int, settings: dict[str, str] | None = None) -> CrawlRun:
        """A project crawl of every channel into a fresh SQLite store."""
        return self.in_fresh_store(label, project_command(self.sandbox.url, self.plan.oid, pages, settings or {}))

    def in_fresh_store(self, label: str, command: list[str]) -> CrawlRun:
        """A project crawl (*command*) into a fresh SQLite store."""
        with tempfile.TemporaryDirectory(prefix="xhs-bench-store-") as work:
            store = f"sqlite:///{Path(work) / 'notes.sqlite3'}"
            return run_crawl(label, [*command, "-s", f"XHS_STORE_URI={store}"], self.sandbox)

    def bare(self, label: str, pages: int, settings: dict[str, str] | None = None) -> CrawlRun:
        """The bare spider, logging at the project's default log level, as
        the comparisons are made at that level."""
        settings = {"LOG_LEVEL": PROJECT_LOG_LEVEL, **(settings or {})}
        command = bare_command(self.sandbox.url, self.plan.channels, pages, settings)
        return run_crawl(label, command, self.sandbox)

    def page_note_ids(self, oid: str, page: int) -> list[str]:
        url = f"{self.sandbox.url}/__sandbox__/notes?oid={oid}&page={page}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return list(json.loads(response.read())["note_ids"])


def interleaved(rounds: int, variants: dict[str, Callable[[str], CrawlRun]]) -> dict[str, list[CrawlRun]]:
    """Run every variant once a round, in reversed order every other round
    (ABBA), so a drift of the machine's state spreads over all of them."""
    runs: dict[str, list[CrawlRun]] = {name: [] for name in variants}
    order = list(variants)
    for number in range(rounds):
        for name in order if number % 2 == 0 else reversed(order):
            run = variants[name](name)
            print(f"    round {number + 1} {name}: exit {run.returncode}, "
                  f"{run.sandbox.get('calls', 0)} calls in {run.wall_seconds:.1f} s", flush=True)
            runs[name].append(run)
    return runs


def run_summary(run: CrawlRun, **figures: Any) -> dict[str, Any]:
    """What the JSON keeps of one run."""
    stats = run.crawl_stats
    return {
        "label": run.label,
        "returncode": run.returncode,
        "finish_reason": stats.get("finish_reason"),
        "wall_seconds": round(run.wall_seconds, 2),
        "cpu_seconds": round(run.cpu_seconds, 2),
        "peak_rss_mb": round(run.peak_rss_kb / 1024, 1),
        "sandbox_calls": run.sandbox.get("calls"),
        "sandbox_calls_by_endpoint": run.sandbox.get("calls_by_endpoint"),
        "sandbox_codes": run.sandbox.get("codes"),
        # Why a run failed is worth more than its figures.
        **({"log_tail": run.log_tail} if run.returncode else {}),
        **figures,
    }
