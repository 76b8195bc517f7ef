"""Parquet files written in record batches, typed by column (pyarrow, optional)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from typing import Any

from xhs_spider.dataset.columns import BOOLEAN, INTEGER, NUMBER, Column
from xhs_spider.dataset.writers import flat_row

#: Rows per record batch (and per Parquet row group slice): memory stays flat.
BATCH_SIZE = 5000
MISSING = (
    "Parquet needs pyarrow, an optional dependency: pip install 'xhs-spider[parquet]' "
    "(or export to .csv, .jsonl or .json)"
)
_INT64 = 2**63


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def write_parquet(path: Path, records: Iterable[dict], columns: list[Column]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(column.name, _arrow_type(pa, column)) for column in columns])
    count = 0
    iterator = iter(records)
    with pq.ParquetWriter(path, schema) as writer:
        while batch := list(islice(iterator, BATCH_SIZE)):
            rows = [_typed(flat_row(record, columns), columns) for record in batch]
            writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=schema))
            count += len(rows)
    return count


def _arrow_type(pa: Any, column: Column) -> Any:
    scalar = {INTEGER: pa.int64(), NUMBER: pa.float64(), BOOLEAN: pa.bool_()}.get(
        column.kind, pa.string())
    return pa.list_(scalar) if column.repeated else scalar


def _typed(row: dict[str, Any], columns: list[Column]) -> dict[str, Any]:
    # The store keeps an odd value as it could (an integer beyond 64 bits as
    # its text): a value that does not fit its column's type is null there.
    for column in columns:
        value = row[column.name]
        if column.repeated:
            values = value if isinstance(value, list) else [] if value is None else [value]
            row[column.name] = [_scalar(element, column.kind) for element in values]
        else:
            row[column.name] = _scalar(value, column.kind)
    return row


def _scalar(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == INTEGER:
        fits = isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64
        return value if fits else None
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value) if math.isfinite(value) else None
    if kind == BOOLEAN:
        return value if isinstance(value, bool) else None
    return value if isinstance(value, str) else str(value)
