"""The call counters that tests read through ``GET /__sandbox__/stats``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sandbox.comment_params import COMMENTS, SUB_COMMENTS
from sandbox.endpoints import DETAIL, FEED
from sandbox.faults import HTTP_FAULT_KINDS


class SandboxStats:
    """What the sandbox answered since start or the last reset."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        #: Reads the time of each answer for the per-second histogram; without
        #: one, the histogram stays empty.
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self.calls = 0
        self.billed = 0
        self.calls_by_endpoint = Counter({FEED: 0, DETAIL: 0})
        self.calls_by_path: Counter[str] = Counter()
        self.billed_by_endpoint = Counter({FEED: 0, DETAIL: 0})
        self.billed_by_path: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.http_faults = Counter({kind: 0 for kind in HTTP_FAULT_KINDS})
        self.detail_billed_by_note: Counter[str] = Counter()
        #: Detail calls by note id, whatever they answered.
        self.detail_calls_by_note: Counter[str] = Counter()
        self.feed_billed_by_page: Counter[str] = Counter()
        #: "<endpoint>|<list kind>|<value>|<options>|<page or cursor>" → billed
        #: calls of the discovery endpoints: a page paid for twice shows here.
        self.discovery_billed_by_request: Counter[str] = Counter()
        #: "comments|<note id>|<sort>|<cursor>" and "sub_comments|<note id>|<comment
        #: id>|<cursor>" → billed calls of the comment endpoints, whichever version.
        self.comments_billed_by_request: Counter[str] = Counter()
        self.odd_values: Counter[str] = Counter()
        #: note id → the odd value kind its card (in any feed) or detail got.
        self.odd_cards_by_note: dict[str, str] = {}
        self.odd_details_by_note: dict[str, str] = {}
        #: Epoch second → "calls", "billed/<endpoint>", "code/<code>" counts:
        #: what benchmarks read to measure throughput over part of a run.
        self.by_second: dict[int, Counter[str]] = {}

    def _count_this_second(self, key: str) -> None:
        if self._clock is not None:
            second = int(self._clock())
            self.by_second.setdefault(second, Counter())[key] += 1

    def record_call(self, endpoint: str, path: str) -> None:
        self.calls += 1
        self.calls_by_endpoint[endpoint] += 1
        self.calls_by_path[path] += 1
        self._count_this_second("calls")

    def record_code(self, code: int) -> None:
        self.codes[str(code)] += 1
        self._count_this_second("code/%d" % code)

    def record_note_call(self, note_id: str) -> None:
        self.detail_calls_by_note[note_id] += 1

    def record_http_fault(self, kind: str) -> None:
        self.http_faults[kind] += 1

    def record_billing(self, endpoint: str, billing_key: str, path: str) -> None:
        self.billed += 1
        self.billed_by_endpoint[endpoint] += 1
        self.billed_by_path[path] += 1
        self._count_this_second("billed/" + endpoint)
        if endpoint == DETAIL:
            self.detail_billed_by_note[billing_key] += 1
        elif endpoint == FEED:
            self.feed_billed_by_page[billing_key] += 1
        elif endpoint in (COMMENTS, SUB_COMMENTS):
            self.comments_billed_by_request["%s|%s" % (endpoint, billing_key)] += 1
        else:
            self.discovery_billed_by_request["%s|%s" % (endpoint, billing_key)] += 1

    def record_odd_value(self, endpoint: str, note_id: str, kind: str) -> None:
        self.odd_values[kind] += 1
        by_note = self.odd_details_by_note if endpoint == DETAIL else self.odd_cards_by_note
        by_note[note_id] = kind

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "billed": self.billed,
            "calls_by_endpoint": dict(self.calls_by_endpoint),
            "calls_by_path": dict(self.calls_by_path),
            "billed_by_endpoint": dict(self.billed_by_endpoint),
            "billed_by_path": dict(self.billed_by_path),
            "codes": dict(self.codes),
            "http_faults": dict(self.http_faults),
            "detail_billed_by_note": dict(self.detail_billed_by_note),
            "detail_calls_by_note": dict(self.detail_calls_by_note),
            "feed_billed_by_page": dict(self.feed_billed_by_page),
            "discovery_billed_by_request": dict(self.discovery_billed_by_request),
            "comments_billed_by_request": dict(self.comments_billed_by_request),
            "odd_values": dict(self.odd_values),
            "odd_cards_by_note": dict(self.odd_cards_by_note),
            "odd_details_by_note": dict(self.odd_details_by_note),
            "by_second": {str(second): dict(counts) for second, counts in sorted(self.by_second.items())},
        }
