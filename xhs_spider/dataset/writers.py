"""One writer per file format, each writing record by record.

Every format has the same columns, in the same order (:mod:`.columns`): CSV
through the project's spreadsheet-safe exporter (UTF-8 with a byte-order
mark, lists joined with " | "), JSON Lines and JSON with one flat object per
record (dotted keys, lists as arrays, Chinese unescaped), Parquet typed
(:mod:`.parquet_writer`). A file gets its header (or its schema) even when
no record matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from xhs_spider.csv_cells import cell_text
from xhs_spider.dataset.columns import Column, flat_row
from xhs_spider.exporters import SpreadsheetCsvItemExporter

#: File extension → format name.
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "json", ".parquet": "parquet"}


def file_format(path: Path) -> str:
    """The format *path*'s extension names; ``ValueError`` for any other."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError("cannot tell the format of %s: name a file ending in %s" % (
            path, ", ".join(FORMATS))) from None


def write_records(path: Path, records: Iterable[dict], columns: list[Column], *, kind: str,
                  raw_text: bool = False) -> int:
    """Write *records* to *path* in format *kind* (of :data:`FORMATS`); the count written.
    CSV text cells are safe from formulas unless *raw_text* (``XHS_CSV_RAW_TEXT``)."""
    if kind == "parquet":
        from xhs_spider.dataset.parquet_writer import write_parquet

        return write_parquet(path, records, columns)
    with path.open("wb") as file:
        if kind == "csv":
            return _write_csv(file, records, columns, raw_text=raw_text)
        return _write_json(file, records, columns, lines=kind == "jsonl")


def _write_csv(file: IO[bytes], records: Iterable[dict], columns: list[Column], *,
               raw_text: bool) -> int:
    names = [column.name for column in columns]
    # The exporter's file handling (UTF-8 with a byte-order mark) and cells;
    # rows go straight to its writer, since a flat row needs no ItemAdapter
    # (which took most of the time). The header is written even with no row.
    exporter = SpreadsheetCsvItemExporter(file, include_headers_line=False)
    exporter.start_exporting()
    exporter.csv_writer.writerow(names)
    count = 0
    for record in records:
        exporter.csv_writer.writerow([cell_text(value, raw_text=raw_text)
                                      for value in flat_row(record, columns).values()])
        count += 1
    exporter.finish_exporting()
    return count


def _write_json(file: IO[bytes], records: Iterable[dict], columns: list[Column], *,
                lines: bool) -> int:
    opening, separator, closing = (b"", b"\n", b"\n") if lines else (b"[\n", b",\n", b"\n]\n")
    file.write(opening)
    count = 0
    for record in records:
        if count:
            file.write(separator)
        file.write(json.dumps(flat_row(record, columns), ensure_ascii=False).encode("utf-8"))
        count += 1
    if count or not lines:
        file.write(closing)
    return count
