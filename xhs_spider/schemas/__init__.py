"""JSON Schemas of the items: the single source of truth for their fields.

They ship inside the package (``schemas/`` at the top of the repository is a
link here), so a deployed egg or wheel finds them without a working directory.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files


@cache
def load_schema(name: str) -> dict:
    return json.loads(files(__name__).joinpath(f"{name}.json").read_text("utf-8"))
