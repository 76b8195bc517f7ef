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
