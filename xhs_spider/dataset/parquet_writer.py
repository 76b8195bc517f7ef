"""Parquet files written in record batches, typed by column (pyarrow, optional).

Integers, numbers and booleans get their types, times a UTC timestamp (in
milliseconds, as the store keeps them), the rest text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any

from xhs_spider.dataset.columns import BOOLEAN, INTEGER, NUMBER, TIMESTAMP, Column, flat_row

#: Rows per record batch and Parquet row group: memory stays flat. A note
#: row costs tens of kB as Python objects; 1,000 keeps the export's peak
#: near 200 MB (benchmarks' export case), 5,000 took it past 300 MB.
BATCH_SIZE = 1000
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
        # Each record is turned into its row as it is read: a batch holds
        # rows, not the (larger) nested records as well.
        while rows := [_typed(flat_row(record, columns), columns)
                       for record in islice(iterator, BATCH_SIZE)]:
            arrays = [pa.array([row[column.name] for row in rows], type=field.type)
                      for column, field in zip(columns, schema, strict=True)]
            # write_table writes a row group per call; write_batch would buffer
            # every batch of the file into one row group, in memory.
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(rows)
    return count


def _arrow_type(pa: Any, column: Column) -> Any:
    scalar = {INTEGER: pa.int64(), NUMBER: pa.float64(), BOOLEAN: pa.bool_(),
              TIMESTAMP: pa.timestamp("ms", tz="UTC")}.get(column.kind, pa.string())
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
    if kind == TIMESTAMP:
        return _utc_time(value)
    return value if isinstance(value, str) else str(value)


def _utc_time(value: Any) -> datetime | None:
    """The UTC time an ISO text names (UTC when it names no offset); None if none."""
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None
