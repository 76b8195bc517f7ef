"""Fixtures: a real sandbox of the API on loopback, and real crawls against it.

Crawls run in the test process (:func:`in_process_crawl`, on the asyncio
reactor that pytest-twisted runs for the whole session) unless a test needs
what only a subprocess shows: an exit status, a command's output, a signal
(:func:`crawl`, :func:`run_scrapy`).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.log import LogCounterHandler
from scrapy.utils.test import get_crawler

from sandbox.process import SandboxProcess
from xhs_spider.extensions.log_masking import TokenMaskingFilter

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-Zq7Xw3Kp9Lm2Nv8Rt5Yb"

#: Fast, deterministic crawls: tiny backoffs, no AutoThrottle start delay.
FAST_SETTINGS = {
    "JUSTONEAPI_RETRY_BACKOFF_BASE": "0.01",
    # Rate limits in the tests are short: grow back fast.
    "JUSTONEAPI_RATE_RECOVERY": "20",
    "AUTOTHROTTLE_START_DELAY": "0",
    "LOG_LEVEL": "DEBUG",
}


@pytest.fixture(autouse=True)
def root_logging_as_it_was() -> Iterator[None]:
    """Takes off what crawlers built for a unit test left on the root logger.

    A crawler that never runs never reaches engine_stopped, so its log counter
    (Scrapy's) and its token-masking filter stay on the root logger and its
    handlers, and every later log record would pass through all of them.
    """
    root = logging.getLogger()
    before = set(root.handlers)
    yield
    for handler in list(root.handlers):
        if isinstance(handler, LogCounterHandler) and handler not in before:
            root.removeHandler(handler)
        handler.filters[:] = [f for f in handler.filters if not isinstance(f, TokenMaskingFilter)]


#: Fixtures that start a process for the test that asks for them (a crawl or
#: command as a subprocess, a server of its own): their tests are integration.
PROCESS_FIXTURES = frozenset({"crawl", "mongo", "mongo_server", "redis_server", "scrapyd", "wheel"})


#: A test parametrized over the MongoDB backend starts nx-27017 for it.
PROCESS_PARAMS = frozenset({"mongo", "mongodb"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(item, "callspec", None)
        values = {value for value in params.params.values() if isinstance(value, str)} if params else set()
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())) or PROCESS_PARAMS & values:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def subprocesses_only_in_integration_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test that starts a process of its own unless it is marked
    ``integration``, so ``make check`` (``-m "not integration"``) can never
    pick up a slow test by mistake.

    The one sandbox a session shares starts before this fixture (a session
    fixture), so in-process crawls against it stay in the fast loop.
    """
    if request.node.get_closest_marker("integration") is not None:
        yield
        return
    original = subprocess.Popen.__init__

    def refused(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        raise AssertionError(
            f"{request.node.nodeid} starts a process ({args[0] if args else kwargs.get('args')!r}): "
            "mark it integration (pytestmark = pytest.mark.integration)"
        )

    subprocess.Popen.__init__ = refused  # type: ignore[method-assign]
    try:
        yield
    finally:
        subprocess.Popen.__init__ = original  # type: ignore[method-assign]


def requires_installed(missing: str | None) -> None:
    """Skip a test whose server or package is *missing* (a reason, or None when
    installed); under CI, which installs them all (.ci/run), fail instead."""
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(missing)
    pytest.skip(missing)


@pytest.fixture(scope="session")
def sandbox():
    with SandboxProcess(token=TOKEN) as process:
        yield process


@pytest.fixture
def api(sandbox):
    """The shared sandbox, with clean counters, no faults and no creator's notes added."""
    sandbox.reset()
    sandbox.configure(
        faults={}, malformed_rate=0, truncated_rate=0, html_error_rate=0,
        redirect_rate=0, dataloss_rate=0, max_consecutive_faults=2,
        quota=None, rate_limit=None, latency=0, latency_jitter=0, unavailable_rate=0.03,
        odd_value_rate=0, retired_paths=[], note_codes={},
        discovery_shape="mixed", discovery_stuck_page=None,
    )
    return sandbox


def feed_note_ids(api: SandboxProcess, oid: str, page: int) -> list[str]:
    """The note ids a feed page carries, in order, asked of the sandbox for free."""
    query = urllib.parse.urlencode({"oid": oid, "page": page})
    with urllib.request.urlopen(f"{api.url}/__sandbox__/notes?{query}", timeout=10) as answer:
        return json.load(answer)["note_ids"]


#: What every in-process crawler needs to be a crawl of this project.
ADDON = {"ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0}}


@dataclass(kw_only=True)
class CrawlOutput:
    """What a crawl left: its log, its final stats and the items it scraped."""

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


@dataclass(kw_only=True)
class Crawl(CrawlOutput):
    """A ``scrapy crawl`` subprocess: also its exit status and its output."""

    returncode: int
    stdout: str


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


# In-process crawls ------------------------------------------------------------


class LogCapture(logging.Handler):
    """The log of one in-process crawl, formatted as Scrapy writes LOG_FILE.

    A root handler, added before the crawler is built: the token-masking
    extension filters it as it filters Scrapy's own handler in a subprocess.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self) -> LogCapture:
        root = logging.getLogger()
        self._level = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc_info: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._level)


class ItemCollector:
    """Collects the items a crawl scraped, as the feed exports would write them."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def item_scraped(self, item: Any) -> None:
        self.items.append(ItemAdapter(item).asdict())


async def run_crawler(spidercls: type[Spider], settings: dict[str, Any], **spider_args: str) -> CrawlOutput:
    """Crawl with *spidercls* in this process; *settings* at project priority."""
    collector = ItemCollector()
    with LogCapture() as log:
        crawler = get_crawler(spidercls, settings)
        crawler.signals.connect(collector.item_scraped, signal=signals.item_scraped)
        await maybe_deferred_to_future(crawler.crawl(**spider_args))
    assert crawler.stats is not None
    return CrawlOutput(log=log.text, stats=dict(crawler.stats.get_stats()), items=collector.items)


InProcessCrawl = Callable[..., Awaitable[CrawlOutput]]


@pytest.fixture
def in_process_crawl(tmp_path: Path, api: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessCrawl]:
    """Crawl against the sandbox in the test process; awaitable, returns a :class:`CrawlOutput`.

    ``await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="2",
    settings={...}, token=...)``: the settings and spider arguments of
    ``scrapy crawl -s ... -a ...``, with the developer's environment left out.
    """
    for name in list(os.environ):
        if name.startswith(("JUSTONEAPI_", "XHS_")):
            monkeypatch.delenv(name)

    async def run(
        spidercls: type[Spider], *, settings: dict[str, Any] | None = None, token: str | None = TOKEN,
        **spider_args: str,
    ) -> CrawlOutput:
        merged: dict[str, Any] = {
            **ADDON,
            **FAST_SETTINGS,
            "JUSTONEAPI_BASE_URL": api.url,
            # One embedded store per test, shared by the test's crawls.
            "XHS_STORE_URI": f"sqlite:///{tmp_path / 'xhs.sqlite3'}",
            **(settings or {}),
        }
        if token:
            merged["JUSTONEAPI_TOKEN"] = token
        return await run_crawler(spidercls, merged, **spider_args)

    yield run
