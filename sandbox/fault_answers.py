"""What an injected HTTP-level fault looks like on the wire.

:mod:`faults` decides which call fails and how; this module turns that
decision into the answer a broken gateway or proxy would send.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from sandbox.answers import HTML_CONTENT_TYPE, Answer
from sandbox.faults import (
    DATALOSS,
    MALFORMED,
    REDIRECT,
    TRUNCATED,
    InjectedFault,
    html_error_page,
    malformed_body,
    truncate_body,
)


def http_fault_answer(
    fault: InjectedFault, path: str, params: dict[str, str], real_body: Callable[[], bytes]
) -> Answer:
    """The answer for an HTTP-level *fault*; *real_body* builds the body a success would carry.

    *real_body* is called only for the faults that cut a real body short.
    """
    if fault.kind == MALFORMED:
        return Answer(fault.http_status, malformed_body(fault.variant))
    if fault.kind == TRUNCATED:
        return Answer(fault.http_status, truncate_body(real_body(), fault.variant))
    if fault.kind == REDIRECT:
        location = "%s?%s" % (path, urlencode({**params, "redirected": "1"}))
        return Answer(fault.http_status, b"", location=location)
    if fault.kind == DATALOSS:
        full = real_body()
        cut = truncate_body(full, fault.variant)
        return Answer(fault.http_status, cut, announced_length=len(full))
    return Answer(fault.http_status, html_error_page(fault.http_status), HTML_CONTENT_TYPE)
