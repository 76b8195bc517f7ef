"""Running one crawl as a subprocess against the sandbox, and what it cost.

Each run starts from a reset sandbox (its counters and its rate limiter), so
the sandbox's stats afterwards are that run's calls. While the crawl runs,
its resident memory is sampled from ``/proc/<pid>/status``; its CPU time is
the difference of this process's children's rusage around it (the sandbox,
a child too, is still running then, so it is not counted).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.process import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchmark-token"
RSS_SAMPLE_INTERVAL = 0.25
#: Settings a user's environment could set for every crawl: cleared, so the
#: runs measure what their command line says.
CLEARED_ENVIRONMENT_PREFIXES = ("JUSTONEAPI_", "XHS_", "SCRAPY_")


@dataclass
class CrawlRun:
    """One crawl: its exit status, its own stats, the sandbox's view, its costs."""

    label: str
    returncode: int
    wall_seconds: float
    cpu_seconds: float
    #: (epoch seconds, VmRSS in kB), every RSS_SAMPLE_INTERVAL.
    rss_samples: list[tuple[float, int]] = field(default_factory=list)
    peak_rss_kb: int = 0
    crawl_stats: dict[str, Any] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)
    log_tail: str = ""

    @property
    def by_second(self) -> dict[int, dict[str, int]]:
        return {int(second): counts for second, counts in self.sandbox.get("by_second", {}).items()}


def crawl_environment(code: Path = ROOT) -> dict[str, str]:
    environment = {
        name: value for name, value in os.environ.items()
        if not name.startswith(CLEARED_ENVIRONMENT_PREFIXES)
    }
    # ``python -m`` puts the working directory first on sys.path; PYTHONPATH
    # makes sure the crawl imports the xhs_spider of *code*.
    environment.update({"JUSTONEAPI_TOKEN": TOKEN, "PYTHONPATH": str(code)})
    return environment


def project_command(sandbox_url: str, oid: str, pages: int, settings: dict[str, str]) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "feed", "-a", f"oid={oid}", "-a", f"pages={pages}",
               "-s", f"JUSTONEAPI_BASE_URL={sandbox_url}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return command


def bare_command(sandbox_url: str, channels: list[str], pages: int, settings: dict[str, str]) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.bare_spider", "--url", sandbox_url,
               "--channels", ",".join(channels), "--pages", str(pages)]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return command


def read_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of *pid* in kB; empty once it is gone."""
    values = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return {}
    return values


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_crawl(label: str, command: list[str], sandbox: SandboxProcess, code: Path = ROOT) -> CrawlRun:
    """Run *command* (a project or bare crawl) from *code*; the stats file
    path is appended as the last setting."""
    sandbox.reset()
    with tempfile.TemporaryDirectory(prefix="xhs-bench-") as work:
        stats_path = Path(work) / "stats.json"
        log_path = Path(work) / "crawl.log"
        if "benchmarks.bare_spider" in command:
            command = [*command, "--stats-file", str(stats_path)]
        else:
            command = [*command, "-s", f"XHS_STATS_FILE={stats_path}"]
        run = _sampled_run(label, command, log_path, code)
        if stats_path.exists():
            run.crawl_stats = json.loads(stats_path.read_text(encoding="utf-8"))
        run.log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    run.sandbox = sandbox.stats()
    return run


def _sampled_run(label: str, command: list[str], log_path: Path, code: Path) -> CrawlRun:
    cpu_before = children_cpu_seconds()
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    peak = 0
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=code, env=crawl_environment(code),
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        while process.poll() is None:
            status = read_status(process.pid)
            if "VmRSS" in status:
                samples.append((time.time(), status["VmRSS"]))
                peak = max(peak, status.get("VmHWM", 0), status["VmRSS"])
            time.sleep(RSS_SAMPLE_INTERVAL)
    return CrawlRun(
        label=label, returncode=process.returncode, wall_seconds=time.monotonic() - started,
        cpu_seconds=children_cpu_seconds() - cpu_before, rss_samples=samples, peak_rss_kb=peak,
    )
