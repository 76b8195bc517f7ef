"""The locks (``requirements/*.lock``, compiled by ``make lock``) agree with pyproject.toml.

Each environment installs from its lock (docs/development.md): a dependency
added to pyproject.toml but not locked, one dropped but still locked, or a
range the locked version is outside of, fails here, without the network.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT, requires_installed

REQUIREMENTS = ROOT / "requirements"
PYPROJECT = "xhs-spider (pyproject.toml)"
SCRAPYD_IN = "-r requirements/scrapyd.in"
#: Each lock: the extras of pyproject.toml it holds besides the dependencies,
#: and whether it holds requirements/scrapyd.in.
ENVIRONMENTS = {"runtime": (["report"], False), "test": (["test"], False), "scrapyd": ([], True)}


@dataclass
class Locked:
    version: Version
    marker: Marker | None
    hashes: int = 0
    via: set[str] = field(default_factory=set)


def read_lock(path: Path) -> dict[NormalizedName, Locked]:
    """``uv pip compile``'s output: ``name==version [; marker] \\``, its
    ``--hash=`` lines, then ``# via`` and the requirers (one a line, or one)."""
    locked: dict[NormalizedName, Locked] = {}
    current: Locked | None = None
    for line in path.read_text("utf-8").splitlines():
        stripped = line.strip().removesuffix("\\").strip()
        if line and not line[0].isspace() and not line.startswith("#"):
            requirement = Requirement(stripped)
            (pin,) = requirement.specifier
            assert pin.operator == "==", line
            current = locked[canonicalize_name(requirement.name)] = Locked(
                Version(pin.version), requirement.marker)
        elif current is not None and stripped.startswith("--hash=sha256:"):
            current.hashes += 1
        elif current is not None and stripped.startswith("#") and stripped != "# via":
            current.via.add(stripped.lstrip("# ").removeprefix("via "))
    return locked


def locks() -> dict[str, dict[NormalizedName, Locked]]:
    return {name: read_lock(REQUIREMENTS / f"{name}.lock") for name in ENVIRONMENTS}


def pyproject_requirements() -> dict[str | None, list[Requirement]]:
    """The dependencies (key None) and each extra's, of pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    found: dict[str | None, list[Requirement]] = {
        None: [Requirement(r) for r in project["dependencies"]]}
    for extra, requirements in project["optional-dependencies"].items():
        found[extra] = [Requirement(r) for r in requirements]
    return found


def scrapyd_requirements() -> list[Requirement]:
    lines = (REQUIREMENTS / "scrapyd.in").read_text("utf-8").splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def direct(environment: str) -> dict[str, list[Requirement]]:
    """What the environment asks for, by the source uv names in ``# via``."""
    extras, scrapyd = ENVIRONMENTS[environment]
    declared = pyproject_requirements()
    wanted = {PYPROJECT: [r for key in [None, *extras] for r in declared[key]]}
    if scrapyd:
        wanted[SCRAPYD_IN] = scrapyd_requirements()
    return wanted


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_lock_holds_what_pyproject_asks_for_and_nothing_it_dropped(environment):
    locked = locks()[environment]
    for source, requirements in direct(environment).items():
        asked = {canonicalize_name(r.name) for r in requirements}
        top_level = {name for name, entry in locked.items() if source in entry.via}
        assert top_level == asked, (
            f"{environment}.lock, {source}: {sorted(asked - top_level)} not locked, "
            f"{sorted(top_level - asked)} no longer asked for: run make lock")
        for requirement in requirements:
            version = locked[canonicalize_name(requirement.name)].version
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{environment}.lock has {requirement.name}=={version}, {source} asks "
                f"for {requirement}: run make lock")


def test_an_extra_no_environment_installs_is_locked_at_a_version_it_allows():
    # The parquet extra has no environment of its own: the test lock has pyarrow.
    all_locks = locks()
    installed_extras = {extra for extras, _ in ENVIRONMENTS.values() for extra in extras}
    others = {k: v for k, v in pyproject_requirements().items()
              if k is not None and k not in installed_extras}
    assert "parquet" in others
    for extra, requirements in others.items():
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            holding = {env: lock[name].version for env, lock in all_locks.items() if name in lock}
            assert holding, f"{requirement} (extra {extra}) is in no lock"
            for environment, version in holding.items():
                assert requirement.specifier.contains(version, prereleases=True), (
                    f"{environment}.lock has {name}=={version}, pyproject asks for {requirement}")


def test_every_environment_runs_the_versions_the_tests_ran():
    # The runtime environment is .venv before make install-test adds to it,
    # Scrapyd's has the same packages (but its own setuptools<81).
    all_locks = locks()
    test, runtime = all_locks["test"], all_locks["runtime"]
    assert {n: e.version for n, e in runtime.items()} == {
        n: test[n].version for n in runtime if n in test}
    assert set(runtime) <= set(test)
    shared = (set(all_locks["scrapyd"]) & set(runtime)) - {"setuptools"}
    assert shared > {canonicalize_name(r.name) for r in pyproject_requirements()[None]}
    for name in shared:
        assert all_locks["scrapyd"][name].version == runtime[name].version, name


def test_every_locked_distribution_has_its_hashes():
    for environment, locked in locks().items():
        unhashed = sorted(name for name, entry in locked.items() if not entry.hashes)
        assert unhashed == [], f"{environment}.lock"
        assert "make lock" in (REQUIREMENTS / f"{environment}.lock").read_text("utf-8")[:200]


def test_a_lock_is_read_as_uv_writes_it(tmp_path):
    lock = tmp_path / "x.lock"
    lock.write_text(
        "# This file was autogenerated by uv via the following command:\n"
        "#    make lock\n"
        "async-timeout==5.0.1 ; python_full_version < '3.11.3' \\\n"
        "    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via redis\n"
        "scrapy==2.19.0 \\\n    --hash=sha256:cc\n"
        "    # via\n    #   -c requirements/test.lock\n    #   xhs-spider (pyproject.toml)\n")
    locked = read_lock(lock)
    assert locked["async-timeout"] == Locked(Version("5.0.1"),
                                             Marker("python_full_version < '3.11.3'"), 2, {"redis"})
    assert locked["scrapy"] == Locked(Version("2.19.0"), None, 1,
                                      {"-c requirements/test.lock", PYPROJECT})


def installed() -> dict[NormalizedName, Version]:
    """``pip freeze`` of this environment, but the project's editable install."""
    done = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                          capture_output=True, text=True, timeout=60, check=True)
    pins = [Requirement(line) for line in done.stdout.splitlines() if line.strip()]
    return {canonicalize_name(r.name): Version(next(iter(r.specifier)).version) for r in pins}


@pytest.mark.integration
def test_the_test_environment_is_exactly_its_lock():
    expected = {name: entry.version for name, entry in locks()["test"].items()
                if entry.marker is None or entry.marker.evaluate()}
    actual = installed()
    differences = sorted(
        f"{name}: {actual.get(name, 'missing')} installed, {expected.get(name, 'not')} locked"
        for name in set(expected) | set(actual) if expected.get(name) != actual.get(name))
    # Locally .venv may have been installed over (pip does not remove what a lock
    # dropped): skipped; CI's environment is fresh and must be the lock.
    requires_installed(
        f"this environment is not requirements/test.lock ({'; '.join(differences)}): "
        "make clean install-test" if differences else None)
    assert expected == actual
