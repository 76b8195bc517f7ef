"""A batch of operations to write to the store, and its JSON Lines form.

The JSON Lines form is what journals and spill files hold: one operation per
line, each checked when read back, so a replay never half-applies a
malformed line. A last line cut short (the process died writing it) is
skipped and reported; any other malformed line refuses the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xhs_spider.store.values import json_text

#: Operation kinds, and the list of :class:`WriteBatch` each one goes to.
KINDS = {
    "note": "notes",
    "appearance": "appearances",
    "source_appearance": "source_appearances",
    "unavailable": "unavailable",
    "failed": "failed",
    "page": "pages",
    "source_page": "source_pages",
    "creator": "creators",
    "raw_answer": "raw_answers",
    "share_link": "share_links",
    "comment": "comments",
    "comments_done": "comments_done",
    "run": "runs",
}


@dataclass
class WriteBatch:
    """Operations of one crawl, written to the store together."""

    run_id: str
    #: NoteItem dicts; each is a detail fetched at its ``crawled_at``.
    notes: list[dict] = field(default_factory=list)
    #: FeedAppearanceItem dicts.
    appearances: list[dict] = field(default_factory=list)
    #: (note_id, at): the detail endpoint answered 201 at ``at``.
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    #: ``{"note_id", "at", "reason"}``: a paid detail that gave no note.
    failed: list[dict] = field(default_factory=list)
    #: ``{"crawl_id", "channel", "page", "cards", "new_notes", "next", "at"}``:
    #: a feed page read, and whether the channel goes on after it.
    pages: list[dict] = field(default_factory=list)
    #: Run records, each with its ``run_id``.
    runs: list[dict] = field(default_factory=list)
    #: AppearanceItem dicts: notes found under a keyword, a creator or a topic.
    source_appearances: list[dict] = field(default_factory=list)
    #: ``{"crawl_id", "source_kind", "source_value", "page", "cursor",
    #: "next_cursor", "notes", "new_notes", "next", "stop", "at"}``: a
    #: discovery page read, and whether its source goes on after it.
    source_pages: list[dict] = field(default_factory=list)
    #: CreatorItem dicts.
    creators: list[dict] = field(default_factory=list)
    #: RawAnswerItem dicts: paid discovery answers with no recognisable note.
    raw_answers: list[dict] = field(default_factory=list)
    #: ``{"url", "resolved_url", "at"}``: a share link resolved (paid for once).
    share_links: list[dict] = field(default_factory=list)
    #: CommentItem dicts: comments and replies, each a fetch at its ``fetched_at``.
    comments: list[dict] = field(default_factory=list)
    #: ``{"note_id", "at", "counter", "comments", "complete"}``: a note's
    #: comment paging finished at ``at``; ``counter``: the note's comment
    #: counter (its latest detail's) when the paging started, or null;
    #: ``comments``: the comments and replies it stored; ``complete``: whether
    #: it ran to its end (caps included) rather than being cut short.
    comments_done: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(getattr(self, name)) for name in KINDS.values())

    def all_appearances(self) -> Iterable[dict]:
        """The feed's appearances, then those of the other sources."""
        yield from self.appearances
        yield from self.source_appearances

    def add(self, kind: str, data: dict) -> None:
        if kind == "unavailable":
            self.unavailable.append((data["note_id"], data["at"]))
        else:
            getattr(self, KINDS[kind]).append(data)

    def operations(self) -> Iterable[tuple[str, dict]]:
        for kind, name in KINDS.items():
            for data in getattr(self, name):
                if kind == "unavailable":
                    data = {"note_id": data[0], "at": data[1]}
                yield kind, data

    def chunks(self, size: int) -> Iterable[WriteBatch]:
        """This batch as batches of at most *size* operations, in order."""
        chunk = WriteBatch(run_id=self.run_id)
        for kind, data in self.operations():
            chunk.add(kind, data)
            if len(chunk) >= size:
                yield chunk
                chunk = WriteBatch(run_id=self.run_id)
        if len(chunk):
            yield chunk

    def to_json_lines(self) -> list[str]:
        """One JSON line per operation: ``{"kind", "run_id", "data"}``."""
        return [operation_line(kind, self.run_id, data) for kind, data in self.operations()]

    @classmethod
    def from_json_lines(cls, lines: Iterable[str]) -> list[WriteBatch]:
        """The batches that :meth:`to_json_lines` wrote, one per run id;
        a torn last line is refused like any other (see :func:`read_operations`)."""
        batches, torn = read_operations(lines)
        if torn is not None:
            raise ValueError("line %d: %s" % torn)
        return batches


def operation_line(kind: str, run_id: str, data: dict[str, Any]) -> str:
    """One operation as a JSON line; any value is written, made storable
    first (:func:`~xhs_spider.store.values.storable`), so the line is valid
    UTF-8 and JSON and its replay loads into every store."""
    return json_text({"kind": kind, "run_id": run_id, "data": data})


def read_operations(lines: Iterable[str]) -> tuple[list[WriteBatch], tuple[int, str] | None]:
    """The batches in *lines*, one per run id, and the torn last line if any:
    ``(number, problem)``. A malformed line before the last raises
    ``ValueError("line N: ...")``, N counting from 1."""
    batches: dict[str, WriteBatch] = {}
    problem: tuple[int, str] | None = None
    for number, line in enumerate(lines, start=1):
        if problem is not None:
            raise ValueError("line %d: %s" % problem)
        if not line.strip():
            continue
        try:
            kind, run_id, data = _parse_operation(line)
        except ValueError as exc:
            problem = (number, str(exc))
            continue
        batches.setdefault(run_id, WriteBatch(run_id=run_id)).add(kind, data)
    return list(batches.values()), problem


def _parse_operation(line: str) -> tuple[str, str, dict]:
    try:
        operation = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError("not JSON (%s)" % exc) from None
    except RecursionError:
        raise ValueError("nested too deep") from None
    if not isinstance(operation, dict):
        raise ValueError("not a JSON object")
    kind, run_id, data = operation.get("kind"), operation.get("run_id"), operation.get("data")
    if kind not in _REQUIRED_DATA:
        raise ValueError("unknown kind %r" % (kind,))
    if not isinstance(run_id, str) or not run_id:
        raise ValueError("run_id must be a non-empty string")
    if not isinstance(data, dict):
        raise ValueError("data must be a JSON object")
    required = _REQUIRED_DATA[kind]
    missing = [name for name, kind_of in required.items() if not isinstance(data.get(name), kind_of)]
    if missing:
        raise ValueError("%s data lacks %s" % (kind, ", ".join(missing)))
    return kind, run_id, data


#: What ``write`` reads from each kind of operation, checked when replaying.
_REQUIRED_DATA: dict[str, dict[str, type]] = {
    "note": {"note_id": str, "crawled_at": str},
    "appearance": {"note_id": str, "channel": str, "page": int, "position": int, "crawled_at": str},
    "unavailable": {"note_id": str, "at": str},
    "failed": {"note_id": str, "at": str, "reason": str},
    "page": {"crawl_id": str, "channel": str, "page": int, "next": bool, "at": str},
    "source_appearance": {
        "note_id": str, "source_kind": str, "source_value": str, "page": int, "position": int,
        "crawled_at": str,
    },
    "source_page": {
        "crawl_id": str, "source_kind": str, "source_value": str, "page": int, "next": bool, "at": str,
    },
    "creator": {"user_id": str, "fetched_at": str},
    "raw_answer": {"endpoint": str, "source_kind": str, "source_value": str, "page": int, "received_at": str},
    "share_link": {"url": str, "resolved_url": str, "at": str},
    "comment": {"comment_id": str, "note_id": str, "fetched_at": str},
    "comments_done": {"note_id": str, "at": str, "comments": int, "complete": bool},
    "run": {"run_id": str},
}
