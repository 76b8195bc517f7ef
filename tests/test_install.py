"""After a real (not editable) ``pip install .``, the commands work outside the repository.

A throwaway venv sees the project venv's packages (Scrapy and the rest)
through a path in a ``.pth`` file: only ``xhs_spider`` is installed, from a
copy of the package's sources, never the working tree. The editable
install's own ``.pth`` lives in that directory but is not run: only a
site directory's ``.pth`` files are, and the path is merely added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

TIMEOUT = 60


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("JUSTONEAPI_", "XHS_", "SCRAPY_")) and k != "PYTHONPATH"
    }
    environment["PYTHONWARNINGS"] = "error::DeprecationWarning"
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(bin directory of the venv, a working directory outside the repository)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "xhs_spider", source / "xhs_spider",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  root).stdout.strip()
    Path(purelib, "project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                "--no-build-isolation", str(source)], root)
    assert done.returncode == 0, done.stderr
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return venv / "bin", elsewhere


def test_the_package_comes_from_the_install_not_the_source_tree(installed):
    bin_dir, elsewhere = installed
    done = run([str(bin_dir / "python"), "-c", "import xhs_spider; print(xhs_spider.__file__)"],
               elsewhere)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(bin_dir.parent)


def test_scrapy_channels_works_outside_the_repository(installed):
    bin_dir, elsewhere = installed
    done = run([str(bin_dir / "python"), "-m", "scrapy", "channels"], elsewhere)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "homefeed_food_v3" in done.stdout
    assert done.stdout.splitlines()[-1].split() == ["all", "every", "channel", "above", "(41)"]


def test_xhs_spider_runs_the_project_commands_from_anywhere(installed):
    bin_dir, elsewhere = installed
    done = run([str(bin_dir / "xhs-spider"), "crawl", "feed", "-h"], elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Spider arguments (-a NAME=VALUE):" in done.stdout
    assert "(default: homefeed_recommend)" in done.stdout

    done = run([str(bin_dir / "xhs-spider"), "settings", "--get", "CONCURRENT_REQUESTS"], elsewhere)
    assert (done.returncode, done.stdout) == (0, "8\n"), done.stderr

    done = run([str(bin_dir / "xhs-spider"), "crawl", "feeds"], elsewhere)
    assert done.returncode == 2
    assert done.stderr.startswith("Error: Unknown spider 'feeds'.")


def stub_venv(directory: Path, log: Path) -> None:
    """A venv whose pip only writes down how it was called."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").touch(mode=0o755)
    (bin_dir / "pip").write_text(f'#!/bin/sh\necho "{directory.name} $*" >> "{log}"\n')
    (bin_dir / "pip").chmod(0o755)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_installs_again_only_when_a_lock_or_pyproject_changed(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path)
    (tmp_path / "requirements").mkdir()
    for name in ("runtime", "test", "scrapyd"):
        (tmp_path / "requirements" / f"{name}.lock").touch()
    (tmp_path / "pyproject.toml").touch()
    log = tmp_path / "pip.log"
    log.touch()
    stub_venv(tmp_path / ".venv", log)
    stub_venv(tmp_path / ".venv-scrapyd", log)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}

    def make(*arguments: str) -> tuple[list[str], str]:
        """The pip commands ``make`` ran, and what it printed (PYTHON=false: no venv made)."""
        before = log.read_text()
        done = subprocess.run(["make", "--no-print-directory", "PYTHON=false", *arguments],
                              cwd=tmp_path, env=environment, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return log.read_text()[len(before):].splitlines(), done.stdout

    locked = "install --quiet --require-hashes -r requirements/"
    runtime = [f".venv {locked}runtime.lock", ".venv install --quiet --no-deps -e ."]
    test = [f".venv {locked}test.lock", ".venv install --quiet --no-deps --no-build-isolation -e ."]
    scrapyd = [f".venv-scrapyd {locked}scrapyd.lock"]
    assert make("install")[0] == runtime
    assert make("install")[0] == []
    assert make("-n", "demo")[1] == ".venv/bin/python scripts/offline_demo.py \n"
    assert make("install-test")[0] == test + scrapyd
    assert make("install", "install-test")[0] == []

    def edit(name: str) -> None:
        """Newer than the stamps the last make touched."""
        now = time.time()
        os.utime(tmp_path / name, (now, now))

    edit("requirements/scrapyd.lock")
    assert make("install", "install-test")[0] == scrapyd
    edit("requirements/runtime.lock")
    assert make("install", "install-test")[0] == runtime
    edit("pyproject.toml")
    assert make("install", "install-test")[0] == runtime + test
