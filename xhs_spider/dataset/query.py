"""What an export or a report reads: a collection, a window, sources, statuses."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from xhs_spider.api.channels import parse_channels
from xhs_spider.api.sources import did_you_mean, parse_keyword, parse_topic_id, parse_user_id
from xhs_spider.store.base import CHANNEL, source_name

#: What ``scrapy export`` accepts, and the store collection each one reads.
COLLECTIONS = {
    "notes": "notes", "appearances": "feed_appearances", "metrics": "note_metrics", "runs": "runs",
    "creators": "creators", "comments": "comments", "comment_metrics": "comment_metrics",
}
#: The note statuses of the store (xhs_spider/store/note_state.py).
NOTE_STATUSES = ("ok", "seen", "unavailable", "failed")
#: The field of each collection that ``--since`` compares with.
TIME_FIELDS = {
    "notes": "last_seen_at", "appearances": "crawled_at", "metrics": "fetched_at",
    "runs": "started_at", "creators": "fetched_at", "comments": "fetched_at",
    "comment_metrics": "fetched_at",
}
#: The kinds of source a note is found under: a channel's feed, a keyword's
#: search, a creator's notes, a topic's notes (``--source KIND:VALUE``).
SOURCE_KINDS = (CHANNEL, "keyword", "user", "topic")
_SOURCE_VALUES = {"keyword": parse_keyword, "user": parse_user_id, "topic": parse_topic_id}
_SPAN = re.compile(r"^(\d+)\s*([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True)
class Query:
    collection: str
    #: Records whose time field is at or after this ISO UTC time; None: all.
    since: str | None = None
    #: Records about one of these sources, (kind, value) pairs such as
    #: ("keyword", "咖啡") or ("channel", "homefeed_food_v3"); None: every source.
    sources: frozenset[tuple[str, str]] | None = None
    #: Notes with one of these statuses; None: every status.
    statuses: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.collection not in COLLECTIONS:
            raise ValueError("unknown collection %r; expected one of %s" % (
                self.collection, ", ".join(COLLECTIONS)))
        if self.statuses is not None and self.collection != "notes":
            raise ValueError("--status filters notes only, not %s" % self.collection)
        if self.collection == "creators" and {kind for kind, _ in self.sources or ()} - {"user"}:
            raise ValueError("--source filters creators by user:USER_ID only")
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

    @property
    def channels(self) -> frozenset[str] | None:
        """The channels among :attr:`sources` (None when every source is wanted)."""
        return None if self.sources is None else self.of_kind(CHANNEL)

    def of_kind(self, kind: str) -> frozenset[str]:
        """The values of :attr:`sources` of one *kind*."""
        return frozenset(value for each, value in self.sources or () if each == kind)

    def beyond_channels(self) -> Query | None:
        """The appearances of this query's sources other than channels (a run
        of them read one), or None if it names none."""
        others = frozenset(pair for pair in self.sources or () if pair[0] != CHANNEL)
        return Query("appearances", sources=others) if others else None

    def wants(self, record: dict) -> bool:
        """Whether an appearance or note *record* concerns one of the sources."""
        if self.sources is None:
            return True
        if "source_kind" in record:  # an appearance, its source read by with_source
            return (record["source_kind"], record["source_value"]) in self.sources
        if self.collection == "creators":
            return record.get("user_id") in self.of_kind("user")
        return bool(self.of_kind(CHANNEL).intersection(record.get("channels") or ())
                    or set(self.source_names).intersection(record.get("sources") or ()))

    @property
    def source_names(self) -> list[str]:
        """:attr:`sources` as the store names them in a note's ``sources``: ``keyword:咖啡``."""
        return sorted(source_name(kind, value) for kind, value in self.sources or ())


def parse_source(text: str) -> list[tuple[str, str]]:
    """``--source KIND:VALUE`` → (kind, value) pairs: ``keyword:咖啡``,
    ``user:<user id or profile URL>``, ``topic:<topic id or URL>``,
    ``channel:<oid>[,<oid>…]``; ``ValueError``, one line naming the kinds."""
    kind, colon, value = text.partition(":")
    kind = kind.strip().lower()
    if not colon or kind not in SOURCE_KINDS or not value.strip():
        hint = "" if kind in SOURCE_KINDS else did_you_mean(kind, SOURCE_KINDS)
        raise ValueError(
            "--source %r: expected KIND:VALUE with KIND one of %s (keyword:咖啡, user:<user id>, "
            "topic:<topic id>, channel:<oid>).%s" % (text, ", ".join(SOURCE_KINDS), hint))
    if kind == CHANNEL:
        return [(CHANNEL, oid) for oid in parse_channels(value, "--source channel")]
    return [(kind, _SOURCE_VALUES[kind](value, "--source " + kind))]


def with_source(record: dict) -> dict:
    """An appearance *record* with its ``source_kind`` and ``source_value``: a
    feed card's from a store made before there were other sources has none,
    and is its channel's."""
    if not record.get("source_kind"):
        record["source_kind"], record["source_value"] = CHANNEL, record.get("channel")
    return record


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
