"""After a real (not editable) ``pip install .``, the commands work outside the repository.

A throwaway venv sees the project venv's packages (Scrapy and the rest)
through a path in a ``.pth`` file: only ``xhs_spider`` is installed, from a
wheel built of a copy of the checkout, never the working tree. The editable
install's own ``.pth`` lives in that directory but is not run: only a
site directory's ``.pth`` files are, and the path is merely added. The wheel
and the Scrapyd egg carry the crawler only, not the sandbox or the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

TIMEOUT = 60
#: What pip and scrapyd-deploy read of a checkout besides its packages.
BUILD_FILES = ("pyproject.toml", "setup.py", "README.md", "scrapy.cfg")


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("JUSTONEAPI_", "XHS_", "SCRAPY_")) and k != "PYTHONPATH"
    }
    environment["PYTHONWARNINGS"] = "error::DeprecationWarning"
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def copy_checkout(source: Path) -> list[str]:
    """The build files and every top-level package of the checkout, copied to *source*; the packages."""
    source.mkdir()
    for name in BUILD_FILES:
        shutil.copy(ROOT / name, source / name)
    packages = sorted(path.parent.name for path in ROOT.glob("*/__init__.py"))
    for name in packages:
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "artifacts"))
    return packages


def top_level_names(archive: Path) -> set[str]:
    with zipfile.ZipFile(archive) as files:
        return {name.split("/")[0] for name in files.namelist()}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the checkout, with the sandbox beside the package."""
    source = tmp_path_factory.mktemp("checkout") / "source"
    assert {"xhs_spider", "sandbox", "tests", "benchmarks"} <= set(copy_checkout(source))
    return source


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    """The wheel ``pip wheel .`` builds of the checkout."""
    wheels = tmp_path_factory.mktemp("wheels")
    done = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
                "--no-build-isolation", "-w", str(wheels), str(source)], wheels)
    assert done.returncode == 0, done.stderr
    [built] = wheels.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, Path]:
    """(bin directory of the venv, a working directory outside the repository)."""
    root = tmp_path_factory.mktemp("install")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  root).stdout.strip()
    Path(purelib, "project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
               root)
    assert done.returncode == 0, done.stderr
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return venv / "bin", elsewhere


def test_the_wheel_carries_the_crawler_only(wheel, installed):
    assert top_level_names(wheel) == {"xhs_spider", "xhs_spider-0.1.0.dist-info"}
    bin_dir, elsewhere = installed
    probe = "import importlib.util; print(importlib.util.find_spec('sandbox'))"
    done = run([str(bin_dir / "python"), "-c", probe], elsewhere)
    assert (done.returncode, done.stdout) == (0, "None\n"), done.stderr


@pytest.mark.integration
def test_the_scrapyd_egg_carries_the_crawler_only(source, tmp_path):
    # What scrapyd-deploy uploads: setup.py's egg, built in the checkout.
    done = run([sys.executable, "-m", "scrapyd_client.deploy", "--build-egg", str(tmp_path / "r1.egg")],
               source)
    assert done.returncode == 0, done.stderr
    assert top_level_names(tmp_path / "r1.egg") == {"xhs_spider", "EGG-INFO"}


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
@pytest.mark.integration
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
