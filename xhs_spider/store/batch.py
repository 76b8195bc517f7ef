"""A batch of operations to write to the store, and its JSON Lines form.

The JSON Lines form is what spill files hold: one operation per line, each
checked when read back, so a replay never half-applies a malformed line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field


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
    #: Run records, each with its ``run_id``.
    runs: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.notes) + len(self.appearances) + len(self.unavailable) + len(self.runs)

    def to_json_lines(self) -> list[str]:
        """One JSON line per operation: ``{"kind", "run_id", "data"}``."""
        operations = [
            *(("note", item) for item in self.notes),
            *(("appearance", item) for item in self.appearances),
            *(("unavailable", {"note_id": note_id, "at": at}) for note_id, at in self.unavailable),
            *(("run", record) for record in self.runs),
        ]
        return [
            json.dumps({"kind": kind, "run_id": self.run_id, "data": data}, ensure_ascii=False)
            for kind, data in operations
        ]

    @classmethod
    def from_json_lines(cls, lines: Iterable[str]) -> list[WriteBatch]:
        """The batches that :meth:`to_json_lines` wrote, one per run id.

        Blank lines are skipped; a malformed line raises
        ``ValueError("line N: ...")``, N counting from 1.
        """
        batches: dict[str, WriteBatch] = {}
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                kind, run_id, data = _parse_operation(line)
            except ValueError as exc:
                raise ValueError("line %d: %s" % (number, exc)) from None
            batch = batches.setdefault(run_id, cls(run_id=run_id))
            batch._add(kind, data)
        return list(batches.values())

    def _add(self, kind: str, data: dict) -> None:
        if kind == "note":
            self.notes.append(data)
        elif kind == "appearance":
            self.appearances.append(data)
        elif kind == "unavailable":
            self.unavailable.append((data["note_id"], data["at"]))
        else:
            self.runs.append(data)


def _parse_operation(line: str) -> tuple[str, str, dict]:
    try:
        operation = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError("not JSON (%s)" % exc) from None
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
    "run": {"run_id": str},
}
