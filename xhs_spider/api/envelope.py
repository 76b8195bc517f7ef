"""Reading an answer of the Just One API: its JSON envelope, and its cost."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DownloadFailedError, DownloadTimeoutError, ResponseDataLossError
from scrapy.http import TextResponse

from xhs_spider.api.codes import BILLED_CODES

if TYPE_CHECKING:
    from scrapy.http import Response


class InvalidBody(ValueError):
    """The API answered something that is not its JSON envelope."""


@dataclass(frozen=True)
class Envelope:
    code: int
    data: Any
    message: str | None
    request_id: str | None


def parse_envelope(response: Response) -> Envelope:
    try:
        if isinstance(response, TextResponse):
            body = response.json()
        else:
            body = json.loads(response.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidBody(f"body is not JSON ({len(response.body)} bytes)") from exc
    if not isinstance(body, dict) or not isinstance(body.get("code"), int):
        raise InvalidBody("body has no integer 'code'")
    return Envelope(
        code=body["code"],
        data=body.get("data"),
        message=body.get("message"),
        request_id=body.get("requestId"),
    )


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
