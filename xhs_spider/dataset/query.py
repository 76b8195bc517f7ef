"""What an export or a report reads: a collection, a window, channels, statuses."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

#: What ``scrapy export`` accepts, and the store collection each one reads.
COLLECTIONS = {
    "notes": "notes", "appearances": "feed_appearances", "metrics": "note_metrics", "runs": "runs",
}
#: The note statuses of the store (xhs_spider/store/note_state.py).
NOTE_STATUSES = ("ok", "seen", "unavailable", "failed")
#: The field of each collection that ``--since`` compares with.
TIME_FIELDS = {
    "notes": "last_seen_at", "appearances": "crawled_at", "metrics": "fetched_at",
    "runs": "started_at",
}
_SPAN = re.compile(r"^(\d+)\s*([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True)
class Query:
    collection: str
    #: Records whose time field is at or after this ISO UTC time; None: all.
    since: str | None = None
    #: Records about one of these channels; None: every channel.
    channels: frozenset[str] | None = None
    #: Notes with one of these statuses; None: every status.
    statuses: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.collection not in COLLECTIONS:
            raise ValueError("unknown collection %r; expected one of %s" % (
                self.collection, ", ".join(COLLECTIONS)))
        if self.statuses is not None and self.collection != "notes":
            raise ValueError("--status filters notes only, not %s" % self.collection)
        if "" in (self.statuses or ()):
            raise ValueError("--status is empty: give one of %s" % ", ".join(NOTE_STATUSES))
        unknown = sorted((self.statuses or set()) - set(NOTE_STATUSES))
        if unknown:
            close = difflib.get_close_matches(unknown[0].lower(), NOTE_STATUSES, n=1)
            raise ValueError("unknown note status %r;%s expected one of %s" % (
                unknown[0], " did you mean %r?" % close[0] if close else "", ", ".join(NOTE_STATUSES)))

    @property
    def time_field(self) -> str:
        return TIME_FIELDS[self.collection]


def parse_since(text: str, *, now: datetime | None = None) -> str:
    """The ISO UTC time that ``--since`` names: ``7d``, ``24h``, ``30m`` ago,
    or an ISO date or time (UTC unless it carries an offset)."""
    now = now or datetime.now(timezone.utc)
    span = _SPAN.match(text.strip().lower())
    try:
        if span:
            return iso_utc(now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))}))
        at = datetime.fromisoformat(text.strip())
        return iso_utc(at if at.tzinfo else at.replace(tzinfo=timezone.utc))
    except OverflowError:
        raise ValueError(
            "--since %r is out of range: name a time between the years 1 and 9999" % text
        ) from None
    except ValueError:
        raise ValueError(
            "--since %r is neither a span (7d, 24h, 30m) nor an ISO date "
            "(2026-11-01, 2026-11-01T08:00)" % text
        ) from None


def iso_utc(at: datetime) -> str:
    """*at* as the store writes times: ``2026-11-22T14:00:51.434Z``."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
