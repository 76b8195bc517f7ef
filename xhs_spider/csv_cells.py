"""What one CSV cell holds, as every CSV of the project writes it.

Null or missing → empty, booleans → ``true``/``false``, numbers as Python
writes them, objects as JSON; a list of values in one cell, joined with
:data:`LIST_SEPARATOR`. A text cell that a spreadsheet would run as a
formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return first) gets a
leading ``'``, as OWASP advises against CSV injection
(:func:`spreadsheet_text`): the crawl's feed exporter and ``scrapy export``
both go through :func:`cell_text`, and ``XHS_CSV_RAW_TEXT`` keeps the text
raw. Numbers are not text: ``-3`` stays ``-3``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

LIST_SEPARATOR = " | "

#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """*text* as a spreadsheet shows it and never runs it: ``'`` before a formula's start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_text(value: Any, separator: str = LIST_SEPARATOR, *, raw_text: bool = False) -> str:
    """The text of one CSV cell holding *value*, as the exporter writes it:
    unless *raw_text*, a text cell is safe from formulas (:func:`spreadsheet_text`)."""
    text = _cell(value, separator)
    if raw_text or not text or not _starts_with_text(value):
        return text
    return spreadsheet_text(text)


def _starts_with_text(value: Any) -> bool:
    """Whether the cell of *value* starts with text, not a number."""
    if isinstance(value, (list, tuple)):
        return bool(value) and _starts_with_text(value[0])
    return isinstance(value, (str, bytes))


def _cell(value: Any, separator: str) -> str:
    if isinstance(value, (list, tuple)):
        if any(_is_compound(element) for element in value):
            return _json(value)
        texts = [_scalar_text(element) for element in value]
        return separator.join(texts) if any(texts) else ""
    if isinstance(value, Mapping):
        return _json(value)
    return _scalar_text(value)


def _is_compound(value: Any) -> bool:
    return isinstance(value, (Mapping, list, tuple))


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
