"""The package's shape: modules and functions of a readable size, spiders apart from pipelines.

The sandbox lives beside the package and keeps to the same caps.
"""

from __future__ import annotations

import ast
from itertools import combinations
from pathlib import Path
from types import ModuleType

from scrapy.settings import default_settings

from xhs_spider import stats
from xhs_spider.api import codes
from xhs_spider.config import declarations
from xhs_spider.outcome import reasons

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "xhs_spider"
#: The offline fake of the API, beside the package (not shipped with it).
SANDBOX = ROOT / "sandbox"
#: The sandbox's data generator is a table of sample data, not logic.
LONG_MODULES_ALLOWED = {SANDBOX / "data.py"}
#: What Scrapy's own modules live with (2.19: 169 of its 179 modules within
#: 500 lines, all but 18 of its 1,837 functions within 60): a module may hold
#: a whole concern, a function still fits on a screen.
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    """The crawler's modules and the sandbox's: both keep to the caps."""
    return sorted([*PACKAGE.rglob("*.py"), *SANDBOX.rglob("*.py")])


def test_no_module_over_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules()
        if path not in LONG_MODULES_ALLOWED
        and (lines := path.read_text("utf-8").count("\n")) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_over_60_lines() -> None:
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert long == {}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_spiders_import_no_pipeline() -> None:
    for path in (PACKAGE / "spiders").glob("*.py"):
        assert not {m for m in imported_modules(path) if m.startswith("xhs_spider.pipelines")}, path


def test_every_subpackage_says_what_lives_there() -> None:
    # The opening docstring of its __init__.py: the first thing a newcomer reads.
    silent = [str(init.relative_to(ROOT)) for init in sorted(PACKAGE.rglob("__init__.py"))
              if len(ast.get_docstring(ast.parse(init.read_text("utf-8"))) or "") < 40]
    assert silent == []


def test_the_settings_a_crawl_sees_are_built_in_one_place() -> None:
    # config.effective.crawl_settings applies the add-ons as a Crawler does;
    # a command applying them its own way could disagree with the crawl.
    builder = PACKAGE / "config" / "effective.py"
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text("utf-8")
        if path != builder:
            assert ".load_settings(" not in source and "Addon().update_settings(" not in source, path
    assert ".load_settings(" in builder.read_text("utf-8")


def test_no_custom_signal_carries_data_between_components() -> None:
    # Components talk through Scrapy's own signals and each other's methods,
    # never through signals of the project's own making.
    for path in modules():
        source = path.read_text("utf-8")
        assert "= object()" not in source or SANDBOX in path.parents, path
        assert "xhs_spider.signals" not in source, path


def test_the_sandbox_depends_on_nothing_in_the_package() -> None:
    # It runs from a checkout, beside the crawler it stands in for.
    assert len(list(SANDBOX.rglob("*.py"))) > 10
    for path in SANDBOX.rglob("*.py"):
        assert not {m for m in imported_modules(path) if m.split(".")[0] == "xhs_spider"}, path


def test_the_package_imports_nothing_of_the_sandbox() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert not {m for m in imported_modules(path) if m.split(".")[0] == "sandbox"}, path


def constant_names(module: ModuleType) -> set[str]:
    """The upper-case names *module* defines (not those it imports)."""
    return {
        name for name, value in vars(module).items()
        if name.isupper() and name != "TYPE_CHECKING"
        and not isinstance(value, ModuleType) and getattr(value, "__module__", None) != "typing"
    }


def test_no_constant_name_means_two_things() -> None:
    # FEED_PAGES was once both the setting XHS_FEED_PAGES and a stats key.
    vocabularies = {
        "setting": {name for name, value in vars(declarations).items()
                    if isinstance(value, declarations.Setting)},
        "stats key": constant_names(stats),
        "finish reason": constant_names(reasons),
        "business code": constant_names(codes),
        "Scrapy's setting": {name for name in vars(default_settings) if name.isupper()},
    }
    shared = {
        f"{first} and {second}": sorted(vocabularies[first] & vocabularies[second])
        for first, second in combinations(vocabularies, 2)
        if "Scrapy's setting" not in (first, second) or "setting" in (first, second)
    }
    assert {pair: names for pair, names in shared.items() if names} == {}
