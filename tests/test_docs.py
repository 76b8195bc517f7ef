"""The docs in ``docs/`` know every setting, stats key and finish reason the code knows.

Each check reads the code (the declarations, ``xhs_spider/stats.py``, the
finish reasons) and the Markdown page that documents it, so a setting or key
added without its row, or a row left behind by a removed one, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from xhs_spider import stats
from xhs_spider.api.codes import FINISH_REASONS
from xhs_spider.config import defaults
from xhs_spider.config.declarations import DECLARED
from xhs_spider.outcome import reasons

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PACKAGE = ROOT / "xhs_spider"
STATS_PREFIXES = ("justoneapi/", "xhs/")
README_MAX_LINES = 200


def page(name: str) -> str:
    return (DOCS / name).read_text("utf-8")


def section(text: str, heading: str) -> str:
    """The text under ``## heading``, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section '## {heading}'"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown tables in *text*, as lists of cells."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[-| :]+\|", line):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows.append(cells)
    return rows[1:] if rows else rows  # without the header row


def codes(cell: str) -> list[str]:
    """The `code spans` of a table cell, with Markdown's escaped pipes undone."""
    return [code.replace("\\|", "|") for code in re.findall(r"`([^`]+)`", cell)]


# Settings -----------------------------------------------------------------------

def project_setting_rows() -> dict[str, list[str]]:
    rows = table_rows(section(page("settings.md"), "Project settings"))
    assert rows, "docs/settings.md has no project settings table"
    by_name = {}
    for row in rows:
        assert len(row) == 3, f"not a '| `NAME` | default | meaning |' row: {row}"
        names = codes(row[0])
        assert len(names) == 1 and row[0] == f"`{names[0]}`", f"one `NAME` per row: {row}"
        assert names[0] not in by_name, f"{names[0]} has two rows, which may disagree"
        by_name[names[0]] = row
    return by_name


def test_every_declared_setting_has_a_row_and_every_row_is_declared():
    rows = project_setting_rows()
    assert sorted(set(DECLARED) - set(rows)) == [], "declared but not in docs/settings.md"
    assert sorted(set(rows) - set(DECLARED)) == [], "in docs/settings.md but not declared"


def test_documented_defaults_are_the_declared_ones():
    for name, (_, default_cell, meaning) in project_setting_rows().items():
        if name not in DECLARED:
            continue  # reported by the test above
        default = DECLARED[name].default
        assert meaning, f"{name}: no meaning"
        if default is None:
            continue  # unset: the cell says what that means
        expected = str(default).lower() if isinstance(default, bool) else str(default)
        written = codes(default_cell)
        assert written and written[0] == expected, (
            f"{name}: docs/settings.md says {default_cell!r}, the declaration {expected!r}"
        )


def test_every_scrapy_setting_and_component_the_project_changes_is_documented():
    text = page("settings.md")
    changed = list(defaults.SCRAPY_SETTINGS)
    changed += ["DOWNLOADER_MIDDLEWARES", "ITEM_PIPELINES", "EXTENSIONS"]
    for components in (defaults.DOWNLOADER_MIDDLEWARES, defaults.ITEM_PIPELINES, defaults.EXTENSIONS):
        changed += list(components)
    missing = [name for name in changed if f"`{name}`" not in text]
    assert missing == [], "not in docs/settings.md"


# Stats keys ---------------------------------------------------------------------

def code_stats_keys() -> set[str]:
    """Every key of xhs_spider/stats.py, templates written as in the docs."""
    keys = {
        value for name, value in vars(stats).items()
        if isinstance(value, str) and value.startswith(STATS_PREFIXES) and name != "RETRY_BASE_KEY"
    }
    assert len(keys) > 30, "xhs_spider/stats.py was not read"
    return {re.sub(r"\{(\w+)\}", r"<\1>", key) for key in keys}


def documented_stats_keys() -> set[str]:
    rows = table_rows(section(page("stats.md"), "Stats keys"))
    assert rows, "docs/stats.md has no stats keys table"
    return {key for row in rows for key in codes(row[0])}


def test_every_stats_key_is_documented():
    assert sorted(code_stats_keys() - documented_stats_keys()) == [], "not in docs/stats.md"


def test_every_documented_stats_key_exists():
    assert sorted(documented_stats_keys() - code_stats_keys()) == [], (
        "in docs/stats.md but not in xhs_spider/stats.py"
    )


def package_sources() -> list[Path]:
    return [
        path for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "stats.py"
    ]


def test_stats_keys_are_written_only_through_stats_py():
    literals = []
    for path in package_sources():
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value.startswith(STATS_PREFIXES)):
                literals.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert len(package_sources()) > 30
    assert literals == [], "stats keys spelled outside xhs_spider/stats.py"


# Finish reasons -----------------------------------------------------------------

def code_finish_reasons() -> set[str]:
    constants = {
        value for name, value in vars(reasons).items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str)
    }
    assert reasons.FINISHED in constants and reasons.XHS_STORE_LOST in constants
    # The business codes name their reasons from the one list, never their own.
    assert set(FINISH_REASONS.values()) <= constants, "a code's finish reason not in reasons.py"
    return constants


def finish_reason_rows() -> dict[str, list[str]]:
    rows = table_rows(section(page("stats.md"), "Finish reasons"))
    assert rows, "docs/stats.md has no finish reasons table"
    by_reason = {}
    for row in rows:
        assert len(row) == 4, f"not a '| reason | when | exit status | what to do |' row: {row}"
        (reason,) = codes(row[0])
        by_reason[reason] = row
    return by_reason


def test_every_finish_reason_is_documented_and_every_row_exists():
    rows = finish_reason_rows()
    assert sorted(code_finish_reasons() - set(rows)) == [], "not in docs/stats.md"
    assert sorted(set(rows) - code_finish_reasons()) == [], "in docs/stats.md but not in the code"


def test_documented_exit_statuses_are_the_code_s():
    for reason, (_, when, exit_status, what_to_do) in finish_reason_rows().items():
        expected = reasons.exit_status(reason)
        assert exit_status.split()[0] == str(expected), f"{reason}: exit status {exit_status!r}"
        assert when and what_to_do, f"{reason}: incomplete row"


# Links and length ---------------------------------------------------------------

def markdown_files() -> list[Path]:
    files = [README, *sorted(DOCS.glob("*.md"))]
    assert len(files) > 5, "docs/ pages are missing"
    return files


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of *path*."""
    text = re.sub(r"^```.*?^```", "", path.read_text("utf-8"), flags=re.M | re.S)
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


def links(path: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text("utf-8"), flags=re.M | re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: path.name)
def test_relative_links_lead_to_files_and_headings(path: Path):
    broken = []
    for link in links(path):
        if re.match(r"[a-z]+:", link):
            continue  # https://, mailto:
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            broken.append(link)
    assert broken == [], f"broken links in {path.relative_to(ROOT)}"


def test_the_readme_links_every_docs_page():
    linked = {(README.parent / link.partition("#")[0]).resolve() for link in links(README)}
    assert sorted(p.name for p in DOCS.glob("*.md") if p.resolve() not in linked) == []


def test_the_readme_is_short():
    lines = README.read_text("utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES
