"""The project deployed to a real Scrapyd and scheduled through its web service (docs/deploy.md).

Scrapyd 1.6.0 runs from its own environment (``.venv-scrapyd``, made by
``make install-test``: setuptools<81 and the project's dependencies, not the
project), on loopback, behind a password, everything it writes in the test's
directory. The token and the store are in the daemon's environment only; the
project is deployed with ``scrapyd-deploy`` and jobs are scheduled with
``schedule.json`` as an operator would with curl.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader

from tests.conftest import FAST_SETTINGS, ROOT, TOKEN, feed_note_ids, requires_installed
from tests.scrapyd_server import (
    PASSWORD,
    SCRAPYD_VENV,
    USERNAME,
    ScrapydServer,
    scrapyd_executable,
)
from xhs_spider.settings import SPIDER_MODULES
from xhs_spider.store import open_store

PROJECT = "xhs_spider"
CHANNEL = "homefeed_food_v3"
#: What scrapyd-deploy reads of a checkout to build the egg, and the
#: .gitignore that must cover whatever the build leaves behind.
CHECKOUT_FILES = ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md", ".gitignore")


@pytest.fixture
def scrapyd_environment() -> None:
    requires_installed(None if scrapyd_executable() else
                       "Scrapyd's environment .venv-scrapyd is missing: run make install-test")


def project_importable_in_scrapyds_environment(directory: Path) -> bool:
    python = SCRAPYD_VENV / "bin" / "python"
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('xhs_spider') is None)"
    return subprocess.run([python, "-c", probe], cwd=directory, check=False).returncode == 0


def inherited_environment() -> dict[str, str]:
    """This process's environment without the developer's token, settings or Scrapyd options."""
    return {
        name: value for name, value in os.environ.items()
        if not name.startswith(("JUSTONEAPI_", "XHS_", "SCRAPY"))
    }


@pytest.fixture
def scrapyd(tmp_path: Path, scrapyd_environment: None) -> Iterator[ScrapydServer]:
    """A running Scrapyd whose jobs inherit the token and the store from the daemon."""
    environment = {
        **inherited_environment(),
        "JUSTONEAPI_TOKEN": TOKEN,
        "XHS_STORE_URI": f"sqlite:///{tmp_path / 'store' / 'xhs.sqlite3'}",
        # As for every crawl the tests start: a deprecation fails the job.
        "PYTHONWARNINGS": "error::DeprecationWarning",
    }
    (tmp_path / "store").mkdir()
    with ScrapydServer(tmp_path / "scrapyd", environment) as server:
        yield server


def git(checkout: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The project's files in a git work tree of their own.

    scrapyd-deploy builds in the checkout (``build/``, ``*.egg-info``): a copy
    keeps the developer's tree untouched and two tests from building in one
    directory at once.
    """
    directory = tmp_path / "checkout"
    directory.mkdir()
    for name in CHECKOUT_FILES:
        shutil.copy2(ROOT / name, directory / name)
    # The sandbox beside the package, as in a clone: the egg must leave it out.
    for package in (PROJECT, "sandbox"):
        shutil.copytree(ROOT / package, directory / package, ignore=shutil.ignore_patterns("__pycache__"))
    git(directory, "init", "--quiet")
    return directory


def deploy(checkout: Path, scrapyd: ScrapydServer) -> subprocess.CompletedProcess[str]:
    """``scrapyd-deploy remote`` with the URL and the password in its environment (scrapy.cfg)."""
    environment = {
        **inherited_environment(),
        "SCRAPYD_URL": scrapyd.url,
        "SCRAPYD_USERNAME": USERNAME,
        "SCRAPYD_PASSWORD": PASSWORD,
    }
    return subprocess.run(
        [sys.executable, "-m", "scrapyd_client.deploy", "remote", "--version", "r1"],
        cwd=checkout, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )


def deployed(checkout: Path, scrapyd: ScrapydServer) -> None:
    untracked_before = git(checkout, "status", "--porcelain", "--untracked-files=all")
    done = deploy(checkout, scrapyd)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"status": "ok"' in done.stdout
    # Nothing generated is left where git would see it.
    assert git(checkout, "status", "--porcelain", "--untracked-files=all") == untracked_before


def egg_contents(scrapyd: ScrapydServer) -> tuple[list[str], str]:
    """The files of the egg Scrapyd keeps, and its entry points."""
    with zipfile.ZipFile(scrapyd.base_dir / "eggs" / PROJECT / "r1.egg") as egg:
        return egg.namelist(), egg.read("EGG-INFO/entry_points.txt").decode("utf-8")


def job_settings(api) -> dict[str, str]:
    """Non-secret settings only: Scrapyd puts them on the job's command line and in listjobs.json."""
    return {**FAST_SETTINGS, "JUSTONEAPI_BASE_URL": api.url}


def files_holding(secret: str, directory: Path) -> list[Path]:
    return [
        path for path in sorted(directory.rglob("*"))
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def test_deployed_feed_job_stores_its_notes_and_scrapyd_never_holds_the_token(
    scrapyd, checkout, api, tmp_path,
):
    api.configure(unavailable_rate=0)
    # Else jobs would import that copy, not the egg deployed (Scrapyd's
    # runner appends the egg to the end of sys.path).
    assert not project_importable_in_scrapyds_environment(scrapyd.base_dir)
    deployed(checkout, scrapyd)
    # Every spider of the project (search, user, topic too: issue 19), as this checkout lists them.
    spiders = sorted(get_spider_loader(Settings({"SPIDER_MODULES": SPIDER_MODULES})).list())
    assert {"feed", "note", "search", "user", "topic"} <= set(spiders)
    assert scrapyd.call("listspiders.json?project=" + PROJECT)["spiders"] == spiders
    files, entry_points = egg_contents(scrapyd)
    assert "[scrapy]\nsettings = xhs_spider.settings" in entry_points
    assert {"xhs_spider/schemas/note.json", "xhs_spider/schemas/feed_appearance.json"} <= set(files)
    assert all(name.startswith(("xhs_spider/", "EGG-INFO/")) for name in files)

    job_id = scrapyd.schedule(
        PROJECT, "feed", arguments={"oid": CHANNEL, "pages": "1"}, settings=job_settings(api),
    )
    scrapyd.wait_for_job(job_id)

    log = (scrapyd.base_dir / "logs" / PROJECT / "feed" / f"{job_id}.log").read_text("utf-8")
    assert "'finish_reason': 'finished'" in log
    assert f"Process finished: project='{PROJECT}' spider='feed' job='{job_id}'" in scrapyd.read_log()
    expected = set(feed_note_ids(api, CHANNEL, 1))
    with open_store(f"sqlite:///{tmp_path / 'store' / 'xhs.sqlite3'}") as store:
        notes = list(store.iter_notes())
    assert {note["note_id"] for note in notes} == expected
    assert all(note["status"] == "ok" for note in notes)
    # items_dir is set: Scrapyd's FEEDS wrote the job's items as JSON Lines.
    lines = (scrapyd.base_dir / "items" / PROJECT / "feed" / f"{job_id}.jl").read_text("utf-8").splitlines()
    assert {item["note_id"] for item in map(json.loads, lines) if "counts" in item} == expected

    written = {
        path.relative_to(scrapyd.base_dir).parts[0] for path in scrapyd.base_dir.rglob("*") if path.is_file()
    }
    assert {"eggs", "logs", "items", "dbs", "scrapyd.log"} <= written
    assert files_holding(TOKEN, tmp_path) == []
    assert not any(TOKEN.encode() in answer for answer in scrapyd.answers)


def test_failed_jobs_show_their_exit_status_in_scrapyds_log(scrapyd, checkout, api):
    deployed(checkout, scrapyd)
    settings = job_settings(api)

    misspelt = scrapyd.schedule(PROJECT, "feed", arguments={"oid": "homefeed_fod_v3"}, settings=settings)
    over_budget = scrapyd.schedule(
        PROJECT, "feed", arguments={"oid": CHANNEL, "pages": "3"},
        settings={**settings, "JUSTONEAPI_MAX_BILLED_CALLS": "3"},
    )
    refused, stopped = scrapyd.wait_for_job(misspelt), scrapyd.wait_for_job(over_budget)

    daemon_log = scrapyd.read_log()
    # Refused before the crawl: one line on stderr, which Scrapyd logs; no job log.
    assert f"Process died: exitstatus=2 project='{PROJECT}' spider='feed' job='{misspelt}'" in daemon_log
    assert "/stderr] Error: Unknown channel oid='homefeed_fod_v3'. Did you mean 'homefeed_food_v3'?" in daemon_log
    assert refused["log_url"] is None
    # listjobs.json lists failed jobs among the finished ones, with no exit status.
    assert "exitstatus" not in str(refused) and refused.keys() == stopped.keys()
    # Stopped by the budget (the refused job paid for nothing): the finish
    # reason is in the job's log.
    assert api.stats()["billed"] == 3
    assert f"Process died: exitstatus=1 project='{PROJECT}' spider='feed' job='{over_budget}'" in daemon_log
    log = (scrapyd.base_dir / stopped["log_url"].lstrip("/")).read_text("utf-8")
    assert "'finish_reason': 'justoneapi_budget_exhausted'" in log
