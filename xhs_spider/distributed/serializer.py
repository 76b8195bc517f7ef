"""Requests in the shared queue as data: JSON of a strict schema, never pickle.

scrapy-redis pickles requests by default, and unpickling runs code: anyone
who can write to the Redis of a crawl could make its next worker run a
command of their choosing (with the worker's token in its environment). Here
a request crosses Redis as JSON of its URL, its callback's and errback's
names, its method, the ``Request.meta`` keys the project owns (each of a known
JSON type), its ``cb_kwargs``, priority, ``dont_filter`` and headers; and
what comes back is checked against that schema before a ``Request`` is made
of it. Anything else is a :class:`BadEntry` of one :data:`KINDS`: a pickle
payload is recognised by its first byte and never unpickled; a request must
be a ``GET`` of a known API endpoint (its ``Request.meta``) at the crawl's
``JUSTONEAPI_BASE_URL`` origin, and its callback and errback among those the
spider declares in ``queued_callbacks``: an entry planted by whoever can
write to Redis cannot send a worker (and its token) elsewhere, nor reach a
spider method that was never a callback.

``SCHEDULER_SERIALIZER`` names this module: scrapy-redis calls :func:`dumps`
and :func:`loads`; the :class:`~.scheduler.SharedScheduler` calls
:func:`encode` and :func:`decode`, which add the spider's callbacks and
the crawl's API origin.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import TYPE_CHECKING, Any

from scrapy import Spider
from scrapy.utils.request import request_from_dict

from xhs_spider.api.client import (
    COMMENTS,
    DETAIL,
    ENDPOINT_META,
    FEED,
    RATE_LIMIT_META,
    SEARCH,
    SENT_BY_META,
    SHARE,
    SUB_COMMENTS,
    TOPIC_NOTES,
    USER,
    USER_NOTES,
    origin,
)

if TYPE_CHECKING:
    from scrapy import Request

VERSION = 1
#: The ``Request.meta`` keys that go through the queue, and their types. Other
#: keys are a download's own (``download_slot``, ``download_latency``…): left out.
META: dict[str, type] = {
    ENDPOINT_META: str, "dont_redirect": bool, "handle_httpstatus_all": bool,
    "retry_times": int, RATE_LIMIT_META: int, SENT_BY_META: str, "depth": int,
}
#: The spiders' callback arguments, and their types (any other is a bug: refused).
CB_KWARGS: dict[str, type] = {
    "note_id": str, "channel": str, "page": int, "source": str, "cursor": str, "user_id": str,
    "share_url": str, "comment_id": str, "sort": str, "taken": int, "counter": int,
    "known": bool, "inline": str,
}
REQUIRED = {"v", "url", "method", "priority", "dont_filter"}
OPTIONAL = {"callback", "errback", "headers", "meta", "cb_kwargs"}
MAX_URL = 8192
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
#: The only method the API is called with: nothing else comes out of the queue.
METHOD = "GET"
ENDPOINTS = (FEED, DETAIL, SEARCH, USER_NOTES, TOPIC_NOTES, USER, SHARE, COMMENTS, SUB_COMMENTS)

#: Kinds of entries dropped, by stats key part → what the warning calls them.
PICKLE, NOT_JSON, BAD_SCHEMA = "pickle", "not_json", "bad_schema"
UNKNOWN_CALLBACK, FOREIGN_URL = "unknown_callback", "foreign_url"
KINDS = {
    PICKLE: "a pickle payload (never unpickled: it could run code)",
    NOT_JSON: "not JSON",
    BAD_SCHEMA: "not a request of this project's schema",
    UNKNOWN_CALLBACK: "a request for a callback this spider does not have",
    FOREIGN_URL: "a request for a URL outside the crawl's JUSTONEAPI_BASE_URL",
}


class BadEntry(ValueError):
    """An entry of the shared queue that is not a request this crawl can run."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{KINDS[kind]}: {detail}")
        self.kind = kind
        self.detail = detail


def encode(request: Request, spider: Spider) -> bytes:
    """*request* as the queue holds it; ``TypeError`` if it cannot go there."""
    return dumps(request.to_dict(spider=spider))


def decode(data: bytes, spider: Spider, api_origin: tuple[str, str, int | None]) -> Request:
    """The request *data* holds; :class:`BadEntry` if it is not one of *spider*'s
    or not for *api_origin* (:func:`~xhs_spider.api.client.origin` of the base URL)."""
    entry = loads(data)
    try:
        scheme, host, port = origin(entry["url"])
    except ValueError:  # urlsplit: an unbalanced [ in the host
        raise BadEntry(BAD_SCHEMA, "unexpected url") from None
    if (scheme, host, port) != api_origin:
        raise BadEntry(FOREIGN_URL, f"{scheme}://{host}:{port}")
    for name in (entry.get("callback"), entry.get("errback")):
        if name is not None and not _is_queued_callback(spider, name):
            raise BadEntry(UNKNOWN_CALLBACK, f"{name!r} is not a callback of {type(spider).__name__}")
    return request_from_dict(entry, spider=spider)


def dumps(obj: dict[str, Any]) -> bytes:
    """``Request.to_dict()`` as JSON of the schema; ``TypeError`` for what it cannot carry."""
    if "_class" in obj or obj.get("body") or obj.get("cookies"):
        raise TypeError("Only plain Requests without body or cookies go through the shared queue.")
    entry: dict[str, Any] = {
        "v": VERSION, "url": obj["url"], "method": obj.get("method", "GET"),
        "priority": obj.get("priority", 0), "dont_filter": bool(obj.get("dont_filter")),
        "callback": obj.get("callback"), "errback": obj.get("errback"),
        "meta": {key: value for key, value in (obj.get("meta") or {}).items() if key in META},
        "cb_kwargs": dict(obj.get("cb_kwargs") or {}),
    }
    headers = {_text(name): [_text(value) for value in values]
               for name, values in (obj.get("headers") or {}).items()}
    if headers:
        entry["headers"] = headers
    try:
        _check(entry)
    except BadEntry as exc:
        raise TypeError(f"A request that cannot go through the shared queue: {exc.detail}") from None
    return json.dumps(entry, separators=(",", ":"), sort_keys=True).encode("utf-8")


def loads(data: bytes | str) -> dict[str, Any]:
    """The request dict (for ``request_from_dict``) of an entry; :class:`BadEntry` otherwise."""
    raw = data.encode("latin-1") if isinstance(data, str) else bytes(data)
    # Pickle's first opcode: PROTO (protocol 2 and up), else GLOBAL or MARK;
    # no JSON starts with either. Never given to pickle, not even to look.
    if raw[:1] in (b"\x80", b"c", b"("):
        raise BadEntry(PICKLE, f"{len(raw)} bytes starting {raw[:2]!r}")
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadEntry(NOT_JSON, f"{len(raw)} bytes starting {raw[:8]!r}") from None
    _check(entry)
    return {key: value for key, value in entry.items() if key != "v"}


def _check(entry: Any) -> None:
    if not isinstance(entry, dict):
        raise BadEntry(BAD_SCHEMA, f"a JSON {type(entry).__name__}, not an object")
    keys = set(entry)
    if not REQUIRED <= keys <= REQUIRED | OPTIONAL:
        raise BadEntry(BAD_SCHEMA, f"fields {sorted(keys)}")
    url, method, meta = entry["url"], entry["method"], entry.get("meta", {})
    problems = [
        ("v", entry["v"] != VERSION or type(entry["v"]) is not int),
        ("url", not isinstance(url, str) or len(url) > MAX_URL
         or not url.startswith(("https://", "http://"))),
        ("method", method != METHOD),
        ("priority", type(entry["priority"]) is not int),
        ("dont_filter", type(entry["dont_filter"]) is not bool),
        ("callback", not _is_name(entry.get("callback"))),
        ("errback", not _is_name(entry.get("errback"))),
        ("headers", not _is_headers(entry.get("headers", {}))),
        ("meta", not _is_typed(meta, META) or meta.get(ENDPOINT_META) not in ENDPOINTS),
        ("cb_kwargs", not _is_typed(entry.get("cb_kwargs", {}), CB_KWARGS)),
    ]
    wrong = [name for name, bad in problems if bad]
    if wrong:
        raise BadEntry(BAD_SCHEMA, f"unexpected {', '.join(wrong)}")


def _is_name(value: Any) -> bool:
    return value is None or (isinstance(value, str) and bool(_NAME.fullmatch(value)))


def _is_headers(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(name, str) and isinstance(values, list)
        and all(isinstance(item, str) for item in values)
        for name, values in value.items()
    )


def _is_typed(value: Any, schema: dict[str, type]) -> bool:
    """A dict of known keys, each value of exactly its type (a bool is no int here)."""
    return isinstance(value, dict) and all(
        key in schema and type(item) is schema[key] for key, item in value.items()
    )


def _is_queued_callback(spider: Spider, name: str) -> bool:
    """One of the callbacks the spider's class declares its requests use, and
    a method of the project's (not Scrapy's)."""
    declared: frozenset[str] = getattr(type(spider), "queued_callbacks", frozenset())
    return (name in declared and not hasattr(Spider, name)
            and inspect.isfunction(getattr(type(spider), name, None)))


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value
