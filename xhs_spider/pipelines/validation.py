"""Drops items that do not match their JSON Schema, saying which field failed.

The item classes' schemas and their ``jsonschema`` validators (built once per
class by scrapy-jsonschema) are the source of truth. Each item is first
checked by the same schema compiled to Python by fastjsonschema, with the
validator's own format checks: twenty times faster, and never more lenient
on the JSON values items hold (dicts, lists, strings, numbers, booleans,
null). Only an item it rejects goes to the ``jsonschema`` validator, which
has the last word and names the failing fields.
"""

from __future__ import annotations

import copy
import functools
import re
import warnings
from typing import TYPE_CHECKING, Any

import fastjsonschema
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

with warnings.catch_warnings():
    # See xhs_spider.items: a deprecated jsonschema attribute read at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from scrapy_jsonschema import JsonSchemaItem, JsonSchemaValidatePipeline

from xhs_spider.stats import VALIDATION_DROPPED, VALIDATION_FIELD

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from typing_extensions import Self

class InvalidItem(DropItem):
    """An item that fails its JSON Schema."""


_INDEX = re.compile(r"\.\d+(?=\.|$)")


def field_path(error: Any) -> str:
    """Where a jsonschema error points, with list indexes folded (images[])."""
    path = ".".join(str(part) for part in error.absolute_path)
    required = JsonSchemaValidatePipeline.REQUIRED_RE.search(error.message)
    if required:
        path = f"{path}.{required.group(1)}" if path else required.group(1)
    return _INDEX.sub("[]", path) or "(item)"


_COMPILED: dict[type, Callable[[dict[str, Any]], Any]] = {}


def compiled_validator(item_class: type[JsonSchemaItem]) -> Callable[[dict[str, Any]], Any]:
    """*item_class*'s schema, compiled on first use; raises on an item that fails it."""
    if item_class not in _COMPILED:
        _COMPILED[item_class] = _compile(item_class)
    return _COMPILED[item_class]


def _compile(item_class: type[JsonSchemaItem]) -> Callable[[dict[str, Any]], Any]:
    checker = item_class.validator.format_checker
    # jsonschema's format checks, not fastjsonschema's own (which differ:
    # its date-time takes a second 60, 01:29:60Z).
    formats = {name: functools.partial(checker.conforms, format=name) for name in checker.checkers} if checker else {}
    # A copy: fastjsonschema rewrites every $ref of the schema it is given
    # into an absolute URI, and the item class's schema is read elsewhere.
    return fastjsonschema.compile(
        copy.deepcopy(item_class.jsonschema), formats=formats, use_default=False, detailed_exceptions=False
    )


def schema_errors(item: JsonSchemaItem) -> list[Any]:
    """The jsonschema errors of *item*; none for a valid item."""
    values, check = dict(item), compiled_validator(type(item))
    try:
        check(values)
    except Exception:  # noqa: BLE001 - whatever it is, jsonschema decides
        return list(item.validator.iter_errors(values))
    return []


class SchemaValidationPipeline(JsonSchemaValidatePipeline):
    """scrapy-jsonschema's pipeline with Scrapy ≥ 2.14 signatures.

    The upstream ``process_item(item, spider)`` signature is deprecated by
    Scrapy; this subclass keeps its validation and stats vocabulary but puts
    the counts under ``xhs/validation/`` and logs the failing fields.
    """

    STAT_FMT = VALIDATION_FIELD

    def __init__(self, crawler: Crawler):
        super().__init__(crawler.stats)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, JsonSchemaItem):
            return item
        item_type = type(item).__name__
        errors = schema_errors(item)
        if not errors:
            return item
        fields = sorted({field_path(error) for error in errors})
        for field in fields:
            self.stats.inc_value(self.STAT_FMT.format(item_type=item_type, field=field))
        self.stats.inc_value(VALIDATION_DROPPED.format(item_type=item_type))
        raise InvalidItem(
            f"{item_type} {ItemAdapter(item).get('note_id')} fails its schema at "
            f"{', '.join(fields)}: {errors[0].message[:200]}"
        )
