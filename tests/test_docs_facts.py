"""Facts the docs state, checked against the code that makes them true.

Every exit status the docs give a finish reason, on any page, in a table or
in a sentence, is the one ``xhs_spider/outcome/reasons.py`` gives it; every
column list and field table of ``docs/exports.md`` is the one the schemas
give (``xhs_spider/schemas/``, through ``xhs_spider/dataset/columns.py``).
"""

from __future__ import annotations

import re

import pytest

from tests.test_docs import code_finish_reasons, codes, markdown_files, page, table_rows
from xhs_spider.dataset.columns import schema_columns
from xhs_spider.items import FeedAppearanceItem, NoteItem
from xhs_spider.outcome.reasons import exit_status

#: Each file name's last part in "Columns of `….csv`", and the item it holds.
ITEMS = {"notes": NoteItem, "appearances": FeedAppearanceItem}
#: "exit status 1", "exitstatus=1", "exits 1", "(exit 1": the status in a cell or a sentence.
STATUS = r"exit(?:s| ?status)?[=: ]*(\d)\b"


def reasons_in(text: str) -> set[str]:
    """The finish reasons *text* names in code spans: exactly, or as ``prefix_*``."""
    known = code_finish_reasons()
    named = set()
    for code in codes(text):
        if code in known:
            named.add(code)
        elif code.endswith("*") and re.fullmatch(r"[a-z]+_\*", code):
            named |= {reason for reason in known if reason.startswith(code[:-1])}
    return named


def tables(text: str) -> list[list[str]]:
    """Each Markdown table of *text*, as its lines (the header first)."""
    found, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def documented_statuses_in_tables(text: str) -> list[tuple[str, int, str]]:
    """(reason, status, row) for every table row that gives reasons an exit status
    for the whole row: in the table's exit-status column, or in its first cell."""
    stated = []
    for table in tables(text):
        header = [cell.lower() for cell in re.split(r"(?<!\\)\|", table[0].strip())[1:-1]]
        column = next((i for i, cell in enumerate(header) if "exit status" in cell), None)
        for row in table_rows("\n".join(table)):
            if column is not None:
                statuses = re.findall(r"^\d", row[column].strip())
            else:
                statuses = re.findall(STATUS, row[0])
            if len(statuses) == 1:
                where = " | ".join(row)
                stated += [(reason, int(statuses[0]), where) for reason in sorted(reasons_in(where))]
    return stated


def documented_statuses_in_sentences(text: str) -> list[tuple[str, int, str]]:
    """(reason, status, words) where the two stand together: ``ends `reason`
    (exit status 1)``, ``exit status 0: finish reason `finished```."""
    words = re.sub(r"\s+", " ", text)
    stated = []
    for pattern in (rf"(`[a-z_]+`)[ ,(]{{1,3}}{STATUS}", rf"{STATUS}[^`.|(),;]{{0,25}}?(`[a-z_]+`)"):
        for match in re.finditer(pattern, words):
            span, status = (match.group(1), match.group(2)) if match.group(1).startswith("`") else (
                match.group(2), match.group(1))
            stated += [(reason, int(status), match.group(0)) for reason in reasons_in(span)]
    return stated


def all_documented_statuses() -> list[tuple[str, str, int, str]]:
    return [
        (path.name, reason, status, where)
        for path in markdown_files()
        for text in [path.read_text("utf-8")]
        for reason, status, where in [*documented_statuses_in_tables(text),
                                      *documented_statuses_in_sentences(text)]
    ]


def test_every_exit_status_the_docs_give_a_finish_reason_is_the_code_s():
    stated = all_documented_statuses()
    wrong = [f"{name}: {reason} → {status} in {where!r}" for name, reason, status, where in stated
             if status != exit_status(reason)]
    assert wrong == []
    # The check read them: every reason's row in stats.md, and pages besides.
    assert code_finish_reasons() <= {reason for _, reason, _, _ in stated}
    assert {"usage.md", "recovery.md", "deploy.md", "distributed.md"} <= {name for name, *_ in stated}


def test_usage_exit_statuses_say_one_ctrl_c_exits_1():
    stated = documented_statuses_in_tables(page("usage.md"))
    assert ("shutdown", 1) in {(reason, status) for reason, status, _ in stated}
    assert ("finished", 0) in {(reason, status) for reason, status, _ in stated}


# Columns and fields -----------------------------------------------------------------

def documented_column_lists() -> dict[str, list[str]]:
    text = re.sub(r"\s+", " ", page("exports.md"))
    lists = {}
    for file, columns in re.findall(r"Columns of `([\w.]+)\.csv`: `([^`]+)`", text):
        lists[file.split(".")[-1]] = [column.strip() for column in columns.split(",")]
    return lists


def test_every_csv_column_list_is_the_schema_s():
    lists = documented_column_lists()

    assert sorted(lists) == sorted(ITEMS)
    for name, item in ITEMS.items():
        assert lists[name] == [column.name for column in schema_columns(item.jsonschema)], name


def field_table(item_name: str) -> list[list[str]]:
    text = page("exports.md").split(f"**`{item_name}`**", 1)[1]
    return table_rows("\n".join(tables(text)[0]))


def listed_sub_fields(row: list[str]) -> list[str] | None:
    """``{a, b (s), c}`` or ``a, b, c`` in a code span of the row's other cells, as names."""
    for code in codes(" | ".join(row[1:])):
        if "," in code:
            return [re.sub(r"\(.*?\)", "", name).strip() for name in code.strip("{}").split(",")]
    return None


@pytest.mark.parametrize("item", [NoteItem, FeedAppearanceItem], ids=lambda item: item.__name__)
def test_each_item_field_table_lists_the_schema_s_fields(item):
    rows = field_table(item.__name__)
    columns = [column.name for column in schema_columns(item.jsonschema)]

    fields = [field for row in rows for field in codes(row[0])]
    assert sorted(fields) == sorted(item.jsonschema["properties"])
    assert len(fields) == len(set(fields)), fields
    for row in rows:
        (field, *_) = codes(row[0])
        sub_fields = [column.split(".", 1)[1] for column in columns if column.startswith(f"{field}.")]
        if sub_fields:
            assert listed_sub_fields(row) == sub_fields, row
