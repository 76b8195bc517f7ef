"""Prints the project's runtime dependencies (pyproject.toml), one a line, for ``pip install -r``.

Scrapyd's environment gets these and not the project itself: Scrapyd's runner
puts the deployed egg at the end of ``sys.path``, so an installed copy of the
project would be imported instead of the version deployed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def runtime_requirements() -> list[str]:
    with PYPROJECT.open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


if __name__ == "__main__":
    print("\n".join(runtime_requirements()))
