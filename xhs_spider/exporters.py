"""CSV export that opens cleanly in spreadsheets and lines up across runs.

:class:`SpreadsheetCsvItemExporter` is the project's ``csv`` feed exporter:

* **Encoding.** UTF-8 files start with one byte-order mark, which Excel needs
  to show Chinese and emoji instead of mojibake. Any other
  ``FEED_EXPORT_ENCODING`` is used as given, without a UTF-8 mark. Appending
  to a non-empty file (``overwrite: false``) adds no second mark, nor a
  second header: the columns are the same from run to run.
* **Empty files.** ``item_export_kwargs: {"item_class": ...}`` in a feed
  names its item class: a run that yields none still writes the header.
* **Columns.** Nested objects become dotted columns (``author.nickname``,
  ``counts.likes``, ``video.duration``). Their order is fixed by the item's
  JSON Schema (:func:`csv_columns`): properties in the order the schema file
  lists them, nested ones expanded in place, ``$ref`` resolved. Every run
  writes the same header whichever optional fields its items carry, so files
  from different runs line up. ``FEED_EXPORT_FIELDS`` (dotted names allowed)
  replaces that list. Items without a schema get their keys, flattened, in
  the first item's order.
* **Lists** fit in one cell, values joined by :data:`LIST_SEPARATOR`
  (``" | "``): ``hashtags`` holds every topic, and a list of objects gives one
  column per sub-field (``images.url``, ``images.width``...) whose values keep
  their positions, so the 2nd width belongs to the 2nd URL; a missing value
  leaves an empty slot (``"1440 |  | 1080"``), and a cell where every value is
  missing is empty. URLs, ids and numbers never contain a space, so split on
  the whole separator: ``TEXTSPLIT(A2, " | ")`` in Excel,
  ``.str.split(" | ", regex=False)`` in pandas. Pass ``join_multivalued`` in a
  feed's ``item_export_kwargs`` to choose another separator.
* **Values.** Null or missing → empty cell, booleans → ``true``/``false``,
  numbers as Python writes them; an object left in a single column (say
  ``FEED_EXPORT_FIELDS = ["author"]``) is written as JSON.
* **Formulas.** A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return would be run by a spreadsheet as a formula (a title
  such as ``=HYPERLINK(...)``): :mod:`xhs_spider.csv_cells` prefixes ``'``,
  as OWASP advises, so it is shown as text. Numbers are not text (``-3`` stays
  ``-3``). ``XHS_CSV_RAW_TEXT = True`` keeps cells as they are.

One file holds one item type (use ``item_classes`` in ``FEEDS``): its columns
come from the first item. Items of another class are still written, with the
fields that match those columns, and a warning is logged once.

JSON and JSON Lines need nothing of ours: with ``FEED_EXPORT_ENCODING =
"utf-8"`` Scrapy's own exporters write Chinese and emoji unescaped.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exporters import CsvItemExporter
from scrapy.utils.misc import load_object

from xhs_spider.config.declarations import CSV_RAW_TEXT
from xhs_spider.csv_cells import LIST_SEPARATOR, cell_text

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

_UTF8_NAMES = {"utf-8", "utf-8-sig"}

def csv_columns(schema: dict) -> list[str]:
    """The CSV columns of items following *schema*, in schema order."""
    return list(_property_columns(schema, schema, prefix="", enclosing=()))


def _property_columns(
    root: dict, node: dict, *, prefix: str, enclosing: tuple[int, ...]
) -> Iterator[str]:
    for name, subschema in node.get("properties", {}).items():
        column = prefix + name
        nested = _nested_object(root, _resolve(root, subschema))
        # A schema that contains itself would expand forever: keep it whole.
        if nested is None or id(nested) in enclosing:
            yield column
        else:
            yield from _property_columns(
                root, nested, prefix=f"{column}.", enclosing=(*enclosing, id(nested))
            )


def _nested_object(root: dict, node: dict) -> dict | None:
    """The object schema whose properties become sub-columns, if *node* has one."""
    if node.get("properties"):
        return node
    items = node.get("items")
    if isinstance(items, dict):
        items = _resolve(root, items)
        if items.get("properties"):
            return items
    return None


def _resolve(root: dict, node: dict) -> dict:
    while "$ref" in node:
        reference = node["$ref"]
        if not reference.startswith("#/"):
            raise ValueError(f"Only local $refs give CSV columns, not {reference!r}")
        node = root
        for token in reference[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def spreadsheet_encoding(encoding: str | None) -> str:
    """The encoding to write: UTF-8 gains a byte-order mark, others stay as given."""
    if encoding is None:
        return "utf-8-sig"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(
            f"FEED_EXPORT_ENCODING ({encoding!r}) is not an encoding Python knows."
        ) from None
    return "utf-8-sig" if name in _UTF8_NAMES else encoding


class SpreadsheetCsvItemExporter(CsvItemExporter):
    """Flat, schema-ordered CSV with a UTF-8 byte-order mark (see module docs)."""

    def __init__(
        self,
        file: IO[bytes],
        include_headers_line: bool = True,
        join_multivalued: str = LIST_SEPARATOR,
        errors: str | None = None,
        raw_text: bool = False,
        item_class: str | type | None = None,
        **kwargs: Any,
    ):
        # utf-8-sig writes its mark only at offset 0 of the file, never when
        # appending, and whether Scrapy opened the file in binary mode or not.
        kwargs["encoding"] = spreadsheet_encoding(kwargs.get("encoding"))
        super().__init__(
            file,  # type: ignore[arg-type]  # Scrapy's stub says BytesIO; any binary file works
            include_headers_line=include_headers_line,
            join_multivalued=join_multivalued,
            errors=errors,
            **kwargs,
        )
        self.raw_text = raw_text
        # The file's one item class, if known: its header even with no item.
        self._header_class = load_object(item_class) if isinstance(item_class, str) else item_class
        self._paths: list[list[str]] | None = None
        self._item_class: type | None = None
        self._other_class_warned = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: IO[bytes], *args: Any, **kwargs: Any) -> Self:
        kwargs.setdefault("raw_text", CSV_RAW_TEXT.get(crawler.settings))
        return cls(file, *args, **kwargs)

    def export_item(self, item: Any) -> None:
        if self._paths is None:
            self._paths = self._start_file(item)
        elif self._item_class is not None and type(item) is not self._item_class:
            self._warn_other_class(item)
        values = ItemAdapter(item).asdict()
        separator = self._join_multivalued
        self.csv_writer.writerow(
            [cell_text(_lookup(values, path), separator, raw_text=self.raw_text)
             for path in self._paths]
        )

    def finish_exporting(self) -> None:
        # A run that yielded none of this file's items (a re-run within the
        # TTL) still leaves a CSV that spreadsheets and pandas can open.
        if self._paths is None and self._header_class is not None:
            self._paths = self._start_file(self._header_class())
        super().finish_exporting()

    def _start_file(self, item: Any) -> list[list[str]]:
        columns, headers = self._columns_and_headers(item)
        # Appending to an earlier run's file: its header already names these
        # columns, and a second one would read as a row of data.
        if self.include_headers_line and _at_file_start(self.stream.buffer):
            self.csv_writer.writerow(headers)
        return [column.split(".") for column in columns]

    def _columns_and_headers(self, item: Any) -> tuple[list[str], list[str]]:
        chosen = self.fields_to_export
        if isinstance(chosen, Mapping):
            return list(chosen.keys()), [str(header) for header in chosen.values()]
        if chosen:
            return list(chosen), list(chosen)
        # Only columns we picked ourselves are at risk from a mixed file.
        self._item_class = type(item)
        schema = getattr(item, "jsonschema", None)
        if isinstance(schema, dict):
            columns = csv_columns(schema)
        else:
            columns = item_columns(item)
        return columns, columns

    def _warn_other_class(self, item: Any) -> None:
        if self._other_class_warned:
            return
        self._other_class_warned = True
        logger.warning(
            "This CSV file has the columns of %(first)s, but also receives "
            "%(other)s items: only their fields matching those columns are "
            "written. Give each item class its own file with item_classes in FEEDS.",
            {"first": getattr(self._item_class, "__name__", "?"), "other": type(item).__name__},
        )


def _at_file_start(file: IO[bytes]) -> bool:
    try:
        return not file.seekable() or file.tell() == 0
    except (AttributeError, OSError):
        return True


def item_columns(item: Any) -> list[str]:
    """Columns of an item without a schema: its keys flattened, in its order."""
    adapter = ItemAdapter(item)
    values = adapter.asdict()
    columns = (
        _value_columns(values.get(name), prefix=name) for name in adapter.field_names()
    )
    return list(dict.fromkeys(column for group in columns for column in group))


def _value_columns(value: Any, *, prefix: str) -> Iterator[str]:
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        value = _merged_objects(value)
    if isinstance(value, Mapping) and value:
        for key, sub in value.items():
            yield from _value_columns(sub, prefix=f"{prefix}.{key}")
    else:
        yield prefix


def _merged_objects(objects: Iterable[Mapping]) -> dict:
    """Every key of *objects*, in order of appearance, with a non-null sample."""
    merged: dict = {}
    for obj in objects:
        for key, value in obj.items():
            if merged.get(key) is None:
                merged[key] = value
    return merged


def column_value(record: Any, column: str) -> Any:
    """The value of a dotted CSV *column* in *record*; through a list, one per element."""
    return _lookup(record, column.split("."))


def resolve_ref(root: dict, node: dict) -> dict:
    """*node*, its local ``$ref`` (if any) followed within *root*."""
    return _resolve(root, node)


def _lookup(value: Any, path: list[str]) -> Any:
    """The value at a dotted *path*; through a list, one value per element."""
    if not path:
        return value
    if isinstance(value, Mapping):
        return _lookup(value.get(path[0]), path[1:])
    if isinstance(value, (list, tuple)):
        return [_lookup(element, path) for element in value]
    return None
