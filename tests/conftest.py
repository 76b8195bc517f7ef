"""Fixtures: a real sandbox of the API on loopback, and real crawls against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from xhs_spider.sandbox.process import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-Zq7Xw3Kp9Lm2Nv8Rt5Yb"

#: Fast, deterministic crawls: tiny backoffs, no AutoThrottle start delay.
FAST_SETTINGS = {
    "JUSTONEAPI_RETRY_BACKOFF_BASE": "0.01",
    "JUSTONEAPI_RATE_LIMIT_START_DELAY": "0.02",
    "JUSTONEAPI_RATE_LIMIT_MAX_DELAY": "0.2",
    "AUTOTHROTTLE_START_DELAY": "0",
    "LOG_LEVEL": "DEBUG",
}


@pytest.fixture(scope="session")
def sandbox():
    with SandboxProcess(token=TOKEN) as process:
        yield process


@pytest.fixture
def api(sandbox):
    """The shared sandbox, with clean counters and no faults."""
    sandbox.reset()
    sandbox.configure(
        faults={}, malformed_rate=0, truncated_rate=0, html_error_rate=0,
        redirect_rate=0, dataloss_rate=0, max_consecutive_faults=2,
        quota=None, rate_limit=None, latency=0, latency_jitter=0, unavailable_rate=0.03,
    )
    return sandbox


def feed_note_ids(api: SandboxProcess, oid: str, page: int) -> list[str]:
    """The note ids a feed page carries, in order, asked of the sandbox for free."""
    query = urllib.parse.urlencode({"oid": oid, "page": page})
    with urllib.request.urlopen(f"{api.url}/__sandbox__/notes?{query}", timeout=10) as answer:
        return json.load(answer)["note_ids"]


@dataclass
class Crawl:
    returncode: int
    stdout: str
    log: str
    stats: dict
    items: list[dict] = field(default_factory=list)

    @property
    def notes(self) -> list[dict]:
        return [item for item in self.items if "counts" in item]

    @property
    def appearances(self) -> list[dict]:
        return [item for item in self.items if "channel" in item]

    @property
    def finish_reason(self) -> str | None:
        return self.stats.get("finish_reason")


def scrapy_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "scrapy", *args]


def run_scrapy(args, *, cwd=ROOT, env=None, timeout=180) -> subprocess.CompletedProcess:
    # Only what a test passes: never the developer's token or settings, and
    # deprecations inside the crawl fail the test as they would in pytest.
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("JUSTONEAPI_", "XHS_"))
    }
    environment["PYTHONWARNINGS"] = "error::DeprecationWarning"
    environment.update(env or {})
    return subprocess.run(
        scrapy_command(*args), cwd=cwd, env=environment, capture_output=True,
        text=True, timeout=timeout, check=False,
    )


@pytest.fixture
def crawl(tmp_path, api):
    """Run ``scrapy crawl`` against the sandbox; returns a :class:`Crawl`."""
    runs = iter(range(1000))

    def run(spider: str, *spider_args: str, settings=None, token=TOKEN, extra=()) -> Crawl:
        run_dir = tmp_path / f"run{next(runs)}"
        run_dir.mkdir()
        output, stats, log = run_dir / "items.jsonl", run_dir / "stats.json", run_dir / "crawl.log"
        args = ["crawl", spider, "-O", str(output), "--logfile", str(log)]
        for spider_arg in spider_args:
            args += ["-a", spider_arg]
        merged = {
            **FAST_SETTINGS,
            "JUSTONEAPI_BASE_URL": api.url,
            "XHS_STATS_FILE": str(stats),
            # One embedded store per test, shared by the test's crawls.
            "XHS_STORE_URI": f"sqlite:///{tmp_path / 'xhs.sqlite3'}",
            **(settings or {}),
        }
        for name, value in merged.items():
            args += ["-s", f"{name}={value}"]
        env = {"JUSTONEAPI_TOKEN": token} if token else {}
        done = run_scrapy([*args, *extra], env=env)
        return Crawl(
            returncode=done.returncode,
            stdout=done.stdout + done.stderr,
            log=log.read_text("utf-8") if log.exists() else "",
            stats=json.loads(stats.read_text("utf-8")) if stats.exists() else {},
            items=[json.loads(line) for line in output.read_text("utf-8").splitlines()]
            if output.exists()
            else [],
        )

    return run
