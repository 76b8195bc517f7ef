"""Note ids from what users paste: bare ids, explore and share URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xhs_spider.api.normalize import NOTE_ID

if TYPE_CHECKING:
    from collections.abc import Iterable

# explore/<id>, discovery/item/<id>, search_result/<id>, ?noteId=<id> …
_IN_URL = re.compile(r"(?:/(?:explore|item|search_result|note)/|noteId=)([0-9a-f]{24})(?![0-9a-f])")
# A comment after an id needs white space before its "#": URLs may hold "#".
_INLINE_COMMENT = re.compile(r"\s+#")
_ANYWHERE = re.compile(r"(?<![0-9A-Za-z])([0-9a-f]{24})(?![0-9A-Za-z])")


def extract_note_id(text: str) -> str | None:
    """The note id in *text*, or ``None`` when there is not exactly one."""
    text = text.strip()
    if NOTE_ID.match(text):
        return text
    in_url = set(_IN_URL.findall(text))
    found = in_url or set(_ANYWHERE.findall(text))
    return found.pop() if len(found) == 1 else None


@dataclass
class IdList:
    ids: list[str] = field(default_factory=list)
    #: (line number, the line) for every line that held no note id.
    bad_lines: list[tuple[int, str]] = field(default_factory=list)


def parse_id_lines(lines: Iterable[str]) -> IdList:
    """One id or URL per line; blank lines and ``#`` comments are ignored."""
    result = IdList()
    for number, line in enumerate(lines, start=1):
        text = _INLINE_COMMENT.split(line.strip(), maxsplit=1)[0]
        if not text or text.startswith("#"):
            continue
        note_id = extract_note_id(text)
        if note_id is None:
            result.bad_lines.append((number, text))
        else:
            result.ids.append(note_id)
    result.ids = list(dict.fromkeys(result.ids))
    return result
