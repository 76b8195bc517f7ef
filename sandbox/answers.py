"""What the sandbox sends back: the Answer value and the vendor's JSON envelope."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.data import CHINA_TZ

JSON_CONTENT_TYPE = b"application/json; charset=utf-8"
HTML_CONTENT_TYPE = b"text/html; charset=utf-8"
#: The codes the vendor charges for; only their envelopes carry a recordTime.
BILLED_CODES = (0, 201)

CODE_MESSAGES = {
    0: "success",
    100: "Invalid or Inactive Token",
    101: "Token Expired",
    201: "No Content",
    202: "Processing, Please Retry Later",
    300: "Service Busy",
    301: "Collection Failed. Please Retry.",
    302: "Rate Limit Exceeded",
    303: "Daily Quota Exceeded",
    400: "Invalid Parameters",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
    600: "Permission Denied",
    601: "Insufficient Balance",
    602: "Account Suspended",
}


@dataclass(frozen=True)
class Answer:
    http_status: int
    body: bytes
    content_type: bytes = JSON_CONTENT_TYPE
    location: str | None = None
    #: Announce this many bytes but send only the body, then drop the connection.
    announced_length: int | None = None


def json_bytes(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (an odd value on purpose): sent escaped, "\\ud83d",
        # as the vendor's JSON encoder does.
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def json_answer(value: Any, http_status: int = 200) -> Answer:
    return Answer(http_status, json_bytes(value))


def envelope_body(code: int, data: Any, now: float) -> bytes:
    """The vendor's envelope around *data*, answered at *now* (epoch seconds)."""
    billed = code in BILLED_CODES
    record_time = datetime.fromtimestamp(now, CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return json_bytes(
        {
            "code": code,
            "data": data,
            "message": CODE_MESSAGES.get(code, "Unknown Error"),
            "recordTime": record_time if billed else None,
            "requestId": uuid.uuid4().hex,
        }
    )


def error_envelope(code: int) -> dict[str, Any]:
    return {
        "code": code,
        "data": None,
        "message": CODE_MESSAGES[code],
        "recordTime": None,
        "requestId": uuid.uuid4().hex,
    }


def not_found() -> Answer:
    return json_answer(error_envelope(404), 404)


def method_not_allowed() -> Answer:
    return json_answer({"ok": False, "error": "method not allowed"}, 405)
