"""Drops items that do not match their JSON Schema, saying which field failed."""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

with warnings.catch_warnings():
    # See xhs_spider.items: a deprecated jsonschema attribute read at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from scrapy_jsonschema import JsonSchemaItem, JsonSchemaValidatePipeline

from xhs_spider.stats import VALIDATION_DROPPED, VALIDATION_FIELD

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy.crawler import Crawler

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
        errors = list(item.validator.iter_errors(ItemAdapter(item).asdict()))
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
