"""An API call once its parameters passed the vendor's checks, and the errors of a call that did not."""

from __future__ import annotations

from dataclasses import dataclass, field


class InvalidParameters(ValueError):
    """An API call whose parameters the vendor would answer with code 400."""


def page_number(params: dict[str, str]) -> int:
    """The ``page`` parameter: an integer from 1, 1 when absent."""
    try:
        page = int(params.get("page") or "1")
    except ValueError as error:
        raise InvalidParameters("page is not an integer") from error
    if page < 1:
        raise InvalidParameters("page must be at least 1")
    return page


class UnknownTarget(LookupError):
    """A well-formed user id that no creator has: code 404, unbilled."""


@dataclass(frozen=True)
class DiscoveryRequest:
    """What a discovery call asks for: a *kind* of list (or a profile, a share link) of *value*.

    ``options`` holds the list's sort and filters, as (name, value) pairs in
    the v4 vocabulary; ``page`` is the page number of a paged list, ``cursor``
    the cursor a cursor-paged list was asked with ("" for the first page).
    """

    kind: str
    value: str
    options: tuple[tuple[str, str], ...] = ()
    page: int = 1
    cursor: str = ""

    def option(self, name: str) -> str:
        return dict(self.options)[name]


@dataclass(frozen=True)
class CommentRequest:
    """What a comment call asks for: a page of *note_id*'s comments in *sort*
    order, or (*comment_id* set) a page of the replies to that comment;
    *cursor* is the ``lastCursor`` it was asked with ("" for the first page)."""

    note_id: str
    sort: str = ""
    comment_id: str = ""
    cursor: str = ""


@dataclass(frozen=True)
class ValidQuery:
    endpoint: str
    billing_key: str
    oid: str = ""
    page: int = 0
    note_id: str = ""
    #: The API path it was asked on (set once the call is routed).
    path: str = ""
    request: DiscoveryRequest | None = field(default=None)
    comments: CommentRequest | None = field(default=None)
