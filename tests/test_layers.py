"""The import layers of the package: no import runs back up, no circle.

Each subpackage or top-level module of ``xhs_spider`` (a *unit*) stands on
one layer, and may import only from units on the layers below it, or from
itself. Two units on one layer import nothing of each other. The list below
is the order docs/development.md ("Import layers") describes.

Every import counts, wherever it is written: at the top of a module, inside a
function, under ``if TYPE_CHECKING:``. A function-level import that goes up is
still a dependency on the layer above (it only runs later), and a type-only
import still means the module cannot be read or changed without the other.
For the same reason the circle check counts them too: two modules that need
each other are one tangle whether or not Python notices at import time (both
circles this test was written against hid behind a lazy or a type-only
import). Importing a submodule also runs its package's ``__init__``; that
implicit step is not an import of the ``__init__`` here, or every package
re-exporting its submodules would make circles.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "xhs_spider"
DEVELOPMENT_DOC = PACKAGE.parent / "docs" / "development.md"
NAME = PACKAGE.name

#: Bottom to top. A unit is ``xhs_spider.<unit>``, a subpackage or a module.
LAYERS: list[tuple[str, ...]] = [
    ("stats", "schemas", "csv_cells"),  # names that import nothing of the project
    ("run",),  # a run's ids, recent windows, readable durations
    ("config",),  # the settings: declared once, defaults, environment, as a crawl sees them
    ("items", "exporters", "feeds"),  # the items; the spreadsheet-safe CSV exporter; CSV feeds made two
    ("outcome",),  # how a run ends: finish reasons, verdict, RunOutcome, the run summary
    ("api",),  # the vendor's vocabulary: requests, answers, codes, normalisation
    ("store", "httpcache", "queues"),  # the note store; the HTTP cache policy; the JOBDIR queues
    ("distributed",),  # everything that talks to Redis: shared queue, ledger, pace, workers
    ("dataset", "pipelines"),  # the store read for analysts; the item pipelines writing it
    ("report", "extensions", "monitoring"),  # the HTML report; the crawl's extensions (Freshness reads the store); run health
    ("middlewares",),  # downloader middlewares: pace, budget, codes, token, claims
    ("spiders",),  # the spiders
    ("addon",),  # the add-on wiring it all into a crawl
    ("commands",),  # the commands of COMMANDS_MODULE
    ("entry_point_commands",),  # the commands whose names hold a dash
    ("cli", "settings"),  # the xhs-spider script; the project's settings module
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """The package's modules that *name* imports, anywhere in it, with the line."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _resolved(alias.name, known, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield from _resolved(submodule if submodule in known else base, known, node.lineno)


def _resolved(target: str, known: set[str], line: int) -> Iterator[tuple[str, int]]:
    # ``import xhs_spider.a.b`` names a module; anything else outside the package is not ours.
    while target and target not in known:
        target = target.rpartition(".")[0]
    if target and target.split(".")[0] == NAME:
        yield target, line


def import_graph() -> dict[str, dict[str, int]]:
    modules = package_modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, {})
        for target, line in imports_of(name, path, known):
            if target != name:
                edges.setdefault(target, line)
    return graph


def unit_of(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def layer_of(unit: str) -> int:
    for index, units in enumerate(LAYERS):
        if unit in units:
            return index
    raise LookupError(unit)


def upward_imports() -> dict[tuple[str, str], str]:
    found = {}
    for module, targets in import_graph().items():
        for target, line in targets.items():
            unit, other = unit_of(module), unit_of(target)
            if unit == other:
                continue
            if not unit or not other or layer_of(other) >= layer_of(unit):
                found[(module, target)] = f"line {line}: {unit or NAME} imports {other or NAME}"
    return found


def circles() -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    graph = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_every_unit_of_the_package_stands_on_one_layer() -> None:
    units = {unit_of(module) for module in package_modules()} - {""}
    placed = [unit for layer in LAYERS for unit in layer]
    assert sorted(units - set(placed)) == []  # a new subpackage: give it its layer here
    assert sorted(set(placed) - units) == []  # gone: take it off
    assert len(placed) == len(set(placed))


def test_the_docs_list_the_same_layers() -> None:
    section = DEVELOPMENT_DOC.read_text("utf-8").split("## Import layers", 1)[1].split("\n## ", 1)[0]
    listed = [tuple(re.findall(r"`([a-z_]+)`", line.split(":", 1)[0]))
              for line in re.findall(r"^\d+\. (.+)$", section, re.MULTILINE)]
    assert listed == LAYERS


def test_no_import_runs_back_up_the_layers() -> None:
    assert upward_imports() == {}


def test_no_import_circle() -> None:
    assert [sorted(group) for group in circles()] == []


def test_the_checks_see_what_they_should(tmp_path: Path) -> None:
    # The walk must see a function-level import, a TYPE_CHECKING one and a
    # relative one, or the tests above would pass on an empty graph.
    graph = import_graph()
    assert "xhs_spider.report.figures" in graph["xhs_spider.commands.report"]  # inside a function
    assert "xhs_spider.dataset.parquet_writer" in graph["xhs_spider.dataset.writers"]  # the same
    assert "xhs_spider.store.base" in graph["xhs_spider.distributed.preflight"]  # TYPE_CHECKING only
    assert len(graph) > 100 and sum(map(len, graph.values())) > 250
    source = tmp_path / "module.py"
    source.write_text(
        "from . import sibling\nfrom .. import stats\nfrom ..store.base import NoteStore\n"
        "import xhs_spider.api.codes\nfrom xhs_spider.api import codes\nimport scrapy\n"
        "def later():\n    from .sibling import name\n", "utf-8")
    known = {"xhs_spider.stats", "xhs_spider.store.base", "xhs_spider.a.sibling",
             "xhs_spider.api.codes", "xhs_spider.a", "xhs_spider.store"}
    assert sorted(imports_of("xhs_spider.a.module", source, known)) == [
        ("xhs_spider.a.sibling", 1), ("xhs_spider.a.sibling", 8), ("xhs_spider.api.codes", 4),
        ("xhs_spider.api.codes", 5), ("xhs_spider.stats", 2), ("xhs_spider.store.base", 3),
    ]
