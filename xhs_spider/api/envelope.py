"""Reading an answer of the Just One API: its JSON envelope, and its cost."""

from __future__ import annotations

import json
import logging
import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DownloadFailedError, DownloadTimeoutError, ResponseDataLossError
from scrapy.http import TextResponse

from xhs_spider.api.codes import BILLED_CODES

if TYPE_CHECKING:
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class InvalidBody(ValueError):
    """The API answered something that is not its JSON envelope."""


@dataclass(frozen=True)
class Envelope:
    code: int
    data: Any
    message: str | None
    request_id: str | None


#: Each response's envelope, read once: the middlewares, ``is_billed`` and
#: the spider all ask for it. Keyed by the response object, whose body cannot
#: change; a ``response.replace(...)`` copy is another key, read afresh.
_ENVELOPES: weakref.WeakKeyDictionary[Response, Envelope] = weakref.WeakKeyDictionary()


def parse_envelope(response: Response) -> Envelope:
    """The envelope of *response*; :class:`InvalidBody` when it has none.

    JSON nested deeper than Python's parser can follow (a body 100,000 levels
    deep) is not a broken answer: what lies below :data:`MAX_DEPTH` levels is
    read as null, so the rest of the answer, paid for, is kept.

    The body is read once per response: later calls return the same
    :class:`Envelope` (its ``data`` is shared; readers must not change it).
    A body that is not an envelope is read again on each call (rare).
    """
    envelope = _ENVELOPES.get(response)
    if envelope is None:
        envelope = _ENVELOPES[response] = _read_envelope(response)
    return envelope


def _read_envelope(response: Response) -> Envelope:
    try:
        body = _body_json(response)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidBody(f"body is not JSON ({len(response.body)} bytes)") from exc
    if not isinstance(body, dict) or not isinstance(body.get("code"), int):
        raise InvalidBody("body has no integer 'code'")
    return Envelope(
        code=body["code"],
        data=body.get("data"),
        message=body.get("message"),
        request_id=body.get("requestId"),
    )


#: Values nested deeper than this in an answer are read as null.
MAX_DEPTH = 100
#: A JSON string, or a bracket outside strings.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _body_json(response: Response) -> Any:
    try:
        if isinstance(response, TextResponse):
            return response.json()
        return json.loads(response.body)
    except RecursionError:
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8")
        logger.warning(
            "An answer of %(size)d bytes nests deeper than %(depth)d levels: read as null there.",
            {"size": len(response.body), "depth": MAX_DEPTH},
        )
        # Still too deep (brackets unbalanced): RecursionError, an invalid body.
        return json.loads(cut_deep_nesting(text, MAX_DEPTH))


def cut_deep_nesting(text: str, depth: int) -> str:
    """*text* (JSON) with every array or object deeper than *depth* levels
    replaced by ``null``, without recursion."""
    parts: list[str] = []
    level, copied_to = 0, 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            level += 1
            if level == depth + 1:
                parts.append(text[copied_to:token.start()])
        elif bracket in "]}":
            if level == depth + 1:
                parts.append("null")
                copied_to = token.end()
            level -= 1
    parts.append(text[copied_to:])
    return "".join(parts)


#: Download errors after the request left: the API may have billed the call
#: although no answer came back (a refused connection or DNS failure did not).
POSSIBLY_BILLED_ERRORS = (DownloadTimeoutError, DownloadFailedError, ResponseDataLossError)


def is_billed(response: Response) -> bool:
    """Whether the account was charged for *response* (code 0 or 201).

    A response replayed from Scrapy's HTTP cache cost nothing this time.
    """
    if "cached" in response.flags:
        return False
    try:
        return parse_envelope(response).code in BILLED_CODES
    except InvalidBody:
        return False


def billed_unless_proved_free(response: Response) -> bool:
    """Whether *response*'s call counts as billed: unless its body is the API's
    envelope with an unbilled code, or Scrapy's cache answered. A body that is
    not the envelope (a proxy's error page, a cut-off body) proves nothing: the
    call may have reached the API and been billed."""
    if "cached" not in response.flags:
        try:
            parse_envelope(response)
        except InvalidBody:
            return True
    return is_billed(response)
