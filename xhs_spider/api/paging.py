"""Paging a source (a keyword, a creator, a topic) page after page: when to
stop, and the query of the next page's request.

A cursor is opaque text the API gave (it may hold ``+``, ``/``, ``=``): it
goes back as it came, URL-encoded, and is never asked for twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from collections.abc import Mapping

    from xhs_spider.api.discovery import DiscoveryPage

#: Why a source stops paging (a fixed vocabulary: stats keys).
STOP_UNREADABLE = "unreadable"  # nothing recognisable in the answer
STOP_EMPTY = "empty_page"  # no note on the page
STOP_SAME_PAGE = "same_page"  # every note on it was on the page before
STOP_NO_MORE = "no_more"  # the answer says has_more false
STOP_PAGES = "pages_done"  # the pages asked for are read
STOP_NO_CURSOR = "no_cursor"  # more to read, but no cursor to read it with
STOP_SAME_CURSOR = "same_cursor"  # the cursor of the page just read, again
STOP_CURSOR_REPEATED = "cursor_repeated"  # a cursor read before: a cycle
STOP_REASONS = (
    STOP_UNREADABLE, STOP_EMPTY, STOP_SAME_PAGE, STOP_NO_MORE, STOP_PAGES,
    STOP_NO_CURSOR, STOP_SAME_CURSOR, STOP_CURSOR_REPEATED,
)


def page_query(params: Mapping[str, str | int], cursor_param: str | None = None,
               cursor: str | None = None) -> str:
    """The query of a page's request: *params*, and *cursor* under
    *cursor_param* unless it is ``None`` (the first page). URL-encoded, so
    the API gets the cursor back byte for byte: ``+`` is sent as ``%2B``,
    ``/`` as ``%2F``, ``=`` as ``%3D``."""
    query: dict[str, str | int] = dict(params)
    if cursor is not None:
        if cursor_param is None:
            raise ValueError("a cursor needs the name of its query parameter")
        query[cursor_param] = cursor
    return urlencode(query)


class PageTrail:
    """The pages read of one source, and whether to ask for another: never
    the same cursor twice, never past *pages*.

    *by_cursor*: the endpoint pages by cursor (a creator's and a topic's
    notes); otherwise by page number (the search), and cursors are ignored.
    *cursor*: where an earlier run left the source (``None``: the first page).
    After each answer, :meth:`follow` says why to stop, or ``None``: then
    :attr:`cursor` and :attr:`next_page` are the next request's.
    """

    def __init__(self, pages: int, *, by_cursor: bool, cursor: str | None = None) -> None:
        if pages < 1:
            raise ValueError(f"pages={pages!r}: at least 1")
        self.pages = pages
        self.by_cursor = by_cursor
        #: Pages answered so far.
        self.pages_read = 0
        #: The cursor of the next request.
        self.cursor = cursor
        #: Why the source stopped, once it has.
        self.stopped: str | None = None
        self._cursors: set[str] = set() if cursor is None else {cursor}
        self._last_notes: frozenset[str] = frozenset()

    @property
    def next_page(self) -> int:
        """The page number of the next request, from 1."""
        return self.pages_read + 1

    def follow(self, page: DiscoveryPage) -> str | None:
        """Take the page just read: why the source stops (:data:`STOP_REASONS`),
        or ``None`` to ask for the next one. Once stopped, stopped for good."""
        if self.stopped is None:
            self.pages_read += 1
            self.stopped = self._stop_reason(page)
            if self.stopped is None and self.by_cursor and page.cursor is not None:
                self.cursor = page.cursor
                self._cursors.add(page.cursor)
            self._last_notes = frozenset(note.note_id for note in page.notes)
        return self.stopped

    def _stop_reason(self, page: DiscoveryPage) -> str | None:
        if not page.readable:
            return STOP_UNREADABLE
        if not page.notes:
            return STOP_EMPTY
        if self._last_notes.issuperset(note.note_id for note in page.notes):
            return STOP_SAME_PAGE
        if page.has_more is False:
            return STOP_NO_MORE
        if self.pages_read >= self.pages:
            return STOP_PAGES
        if not self.by_cursor:
            return None
        if page.cursor is None:
            return STOP_NO_CURSOR
        if page.cursor == self.cursor:
            return STOP_SAME_CURSOR
        if page.cursor in self._cursors:
            return STOP_CURSOR_REPEATED
        return None
