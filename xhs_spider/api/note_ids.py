"""Note ids from what users paste: bare ids, explore and share URLs, ids files."""

from __future__ import annotations

import codecs
import io
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


#: Byte-order marks of the encodings an ids file may be in besides plain
#: UTF-8: Notepad's "UTF-8 with BOM" and "Unicode" (UTF-16 LE), and UTF-16 BE.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
#: Bytes no text file holds (white space aside): their presence means binary.
_CONTROL = frozenset(range(32)) - frozenset(b"\t\n\v\f\r\x1a") | {127}


def decode_ids_file(data: bytes) -> str:
    """The text of an ids file: UTF-8 with or without a byte-order mark, or
    UTF-16 with one. ``ValueError`` saying what the bytes look like otherwise:
    read with the wrong encoding, GBK or UTF-16 without a mark would give
    lines holding no id, or ids that are not there."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise ValueError(f"starts with a {name} byte-order mark but is not {name} text") from None
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(_not_utf8(data, exc.start)) from None
    if "\x00" in text:  # UTF-16 without its mark decodes as UTF-8 full of NULs
        raise ValueError(_not_utf8(data, data.index(b"\x00")))
    return text


def _not_utf8(data: bytes, position: int) -> str:
    sample = data[:65536]
    halves = sorted((sample[0::2].count(0), sample[1::2].count(0)))
    if halves[1] > len(sample) // 8 and halves[0] <= len(sample) // 80:
        return "looks like UTF-16 without a byte-order mark"
    if sum(byte in _CONTROL for byte in sample) > len(sample) // 100:
        return "is not a text file"
    line = data[:position].count(b"\n") + 1
    return f"is not UTF-8: line {line} holds bytes UTF-8 cannot read (GBK or another legacy encoding?)"


def id_lines(text: str) -> io.StringIO:
    """*text* line by line, split as a file opened in text mode splits it."""
    return io.StringIO(text, newline=None)
