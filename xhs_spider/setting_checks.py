"""The project's settings, read with typed getters and checked in one place.

Components read their settings through :func:`setting`, which raises
``ValueError`` naming the setting when a value is unusable; ``scrapy crawl``
checks them all before starting (:func:`first_problem`), so a bad value is
one line on the terminal, not a traceback or a silently disabled component.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from xhs_spider.store import store_from_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.settings import BaseSettings


@dataclass(frozen=True)
class Rule:
    getter: str  # name of the BaseSettings typed getter
    valid: Callable[[Any], bool]
    expected: str


def _is_http_url(value: str | None) -> bool:
    parts = urlsplit(value or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_WHOLE = "a whole number"
RULES: dict[str, Rule] = {
    "JUSTONEAPI_BASE_URL": Rule("get", _is_http_url, "an http:// or https:// URL"),
    "JUSTONEAPI_FEED_PATH": Rule("get", lambda v: str(v).startswith("/"), "a path starting with /"),
    "JUSTONEAPI_DETAIL_PATH": Rule("get", lambda v: str(v).startswith("/"), "a path starting with /"),
    "JUSTONEAPI_ACCEPT_CACHE": Rule("getbool", lambda v: True, "true or false"),
    "JUSTONEAPI_RETRY_TIMES": Rule("getint", lambda v: v >= 0, f"{_WHOLE}, 0 or more"),
    "JUSTONEAPI_RETRY_BACKOFF_BASE": Rule("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "JUSTONEAPI_RETRY_BACKOFF_MAX": Rule("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "JUSTONEAPI_RATE_LIMIT_RETRY_TIMES": Rule("getint", lambda v: v >= 0, f"{_WHOLE}, 0 or more"),
    "JUSTONEAPI_RATE_LIMIT_START_DELAY": Rule("getfloat", lambda v: v > 0, "seconds, more than 0"),
    "JUSTONEAPI_RATE_LIMIT_MAX_DELAY": Rule("getfloat", lambda v: v > 0, "seconds, more than 0"),
    "JUSTONEAPI_RATE_LIMIT_RECOVERY": Rule("getfloat", lambda v: 0 < v < 1, "a factor between 0 and 1"),
    "JUSTONEAPI_MAX_BILLED_CALLS": Rule("getint", lambda v: v >= 0, f"{_WHOLE}, 0 (unlimited) or more"),
    "XHS_STORE_BATCH_SIZE": Rule("getint", lambda v: v >= 1, f"{_WHOLE}, 1 or more"),
    "XHS_STORE_FLUSH_INTERVAL": Rule("getfloat", lambda v: v > 0, "seconds, more than 0"),
    "XHS_STORE_RETRY_TIMES": Rule("getint", lambda v: v >= 0, f"{_WHOLE}, 0 or more"),
    "XHS_STORE_RETRY_BACKOFF": Rule("getfloat", lambda v: v >= 0, "seconds, 0 or more"),
    "XHS_DETAIL_TTL": Rule("getint", lambda v: v >= 0, f"seconds as {_WHOLE}, 0 or more"),
    "XHS_FEED_PAGES": Rule("getint", lambda v: 1 <= v <= 1000, f"{_WHOLE} from 1 to 1000"),
    "XHS_PROGRESS_INTERVAL": Rule("getfloat", lambda v: v >= 0, "seconds, 0 (off) or more"),
}


def setting(settings: BaseSettings, name: str) -> Any:
    """The value of *name*, typed and checked; ``ValueError`` if unusable."""
    rule = RULES[name]
    try:
        value = getattr(settings, rule.getter)(name)
        valid = rule.valid(value)
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(f"Setting {name}={settings.get(name)!r}: expected {rule.expected}.")
    return value


def first_problem(settings: BaseSettings) -> str | None:
    """The first unusable setting, as one line, or ``None``."""
    for name in RULES:
        try:
            setting(settings, name)
        except ValueError as exc:
            return str(exc)
    try:
        store_from_settings(settings)
    except ValueError as exc:
        return str(exc)
    if setting(settings, "JUSTONEAPI_RATE_LIMIT_MAX_DELAY") < setting(
        settings, "JUSTONEAPI_RATE_LIMIT_START_DELAY"
    ):
        return "Setting JUSTONEAPI_RATE_LIMIT_MAX_DELAY must not be below JUSTONEAPI_RATE_LIMIT_START_DELAY."
    return None
