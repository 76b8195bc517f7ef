"""Odd values in otherwise good answers: what a real API sends now and then.

With ``odd_value_rate`` above 0, that share of the note cards of a feed page
and of the note details carries one odd value, of a kind drawn from
``odd_values`` (every kind by default). The draw is a pure function of the
seed and the card's place (channel, page, position) or the detail's note
id, so a retried call gets the same answer. ``GET /__sandbox__/stats``
lists which note got which kind (``odd_cards_by_note``,
``odd_details_by_note``) and how many of each (``odd_values``).

| kind | a feed card | a note detail |
|---|---|---|
| ``surrogate`` | ``display_title`` ends in a lone surrogate, ``"\\ud83d"`` | ``title`` likewise |
| ``huge_int`` | ``likes`` 10**20 | ``likeNum`` 10**20 |
| ``huge_float`` | ``likes`` 1e300 | ``likeNum`` 1e300 |
| ``infinity`` | ``likes`` Infinity | ``likeNum`` Infinity |
| ``nan`` | ``likes`` NaN | ``likeNum`` NaN |
| ``numeric_string`` | ``likes`` "99999999999999999999" | ``likeNum`` likewise |
| ``ms_timestamp`` | ``timestamp`` in milliseconds (usually s) | ``time.createTime`` in seconds (usually ms) |
| ``us_timestamp`` | ``timestamp`` in microseconds | ``time.createTime`` in microseconds |
| ``absurd_timestamp`` | ``timestamp`` in the year 3000 | ``time.createTime`` likewise |
| ``id_whitespace`` | ``id`` followed by a newline | ``noteId`` likewise |
| ``deep_nesting`` | ``recommend`` 100,000 arrays deep | ``featureTags`` likewise |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.answers import Answer, json_bytes
from sandbox.api import SandboxApi
from sandbox.data import is_valid_note_id, stable_fraction
from sandbox.endpoints import DETAIL, FEED, ValidQuery

#: How deep ``deep_nesting`` nests: far beyond any JSON parser's recursion.
DEEP_NESTING_LEVELS = 100_000
#: Stands in for the deep value until the body is JSON text.
_DEEP_MARKER = "\x00deep-nesting\x00"
_DEEP_MARKER_JSON = json_bytes(_DEEP_MARKER)
_DEEP_JSON = b"[" * DEEP_NESTING_LEVELS + b"]" * DEEP_NESTING_LEVELS
#: 3000-01-01T00:00:00Z, in seconds.
YEAR_3000 = 32_503_680_000
HUGE_TEXT = "99999999999999999999"

#: kind → the counter value it puts in likes / likeNum.
_COUNTERS: dict[str, Any] = {
    "huge_int": 10**20,
    "huge_float": 1e300,
    "infinity": float("inf"),
    "nan": float("nan"),
    "numeric_string": HUGE_TEXT,
}
#: kind → (a card's timestamp in s, a detail's createTime in ms) → the odd one.
_TIMES: dict[str, tuple[Callable[[int], int], Callable[[int], int]]] = {
    "ms_timestamp": (lambda s: s * 1000, lambda ms: ms // 1000),
    "us_timestamp": (lambda s: s * 1_000_000, lambda ms: ms * 1000),
    "absurd_timestamp": (lambda s: YEAR_3000, lambda ms: YEAR_3000 * 1000),
}


def odd_card(card: dict[str, Any], kind: str) -> dict[str, Any]:
    """A copy of a feed note card with one odd value of *kind*."""
    odd = dict(card)
    if kind == "surrogate":
        odd["display_title"] = "%s\ud83d" % card.get("display_title", "")
    elif kind in _COUNTERS:
        odd["likes"] = _COUNTERS[kind]
    elif kind in _TIMES:
        odd["timestamp"] = _TIMES[kind][0](card["timestamp"])
    elif kind == "id_whitespace":
        odd["id"] = card["id"] + "\n"
    elif kind == "deep_nesting":
        odd["recommend"] = _DEEP_MARKER
    return odd


def odd_detail(detail: dict[str, Any], kind: str) -> dict[str, Any]:
    """A copy of a note detail's ``data`` with one odd value of *kind*."""
    odd = dict(detail)
    if kind == "surrogate":
        odd["title"] = "%s\ud83d" % detail.get("title", "")
    elif kind in _COUNTERS:
        odd["likeNum"] = _COUNTERS[kind]
    elif kind in _TIMES:
        times = dict(detail["time"])
        times["createTime"] = _TIMES[kind][1](times["createTime"])
        odd["time"] = times
    elif kind == "id_whitespace":
        odd["noteId"] = detail["noteId"] + "\n"
    elif kind == "deep_nesting":
        odd["featureTags"] = _DEEP_MARKER
    return odd


def is_note_card(card: Any) -> bool:
    return (
        isinstance(card, dict) and card.get("model_type") == "note" and not card.get("is_ads")
        and is_valid_note_id(card.get("id") or "")
    )


class OddValuesApi(SandboxApi):
    """The sandbox's API with odd values injected into good answers."""

    def odd_kind(self, key: str) -> str | None:
        """The odd value kind the card or detail *key* gets, if any."""
        if stable_fraction(self.config.seed, "odd", key) >= self.config.odd_value_rate:
            return None
        kinds = self.config.odd_values
        return kinds[int(stable_fraction(self.config.seed, "odd-kind", key) * len(kinds))]

    def with_odd_values(self, query: ValidQuery, data: Any) -> Any:
        if query.endpoint == FEED and isinstance(data, list):
            return [self._odd_card(query, index, card) for index, card in enumerate(data)]
        if query.endpoint == DETAIL and isinstance(data, dict):
            kind = self.odd_kind("detail:%s" % query.note_id)
            if kind is not None:
                self.stats.record_odd_value(DETAIL, query.note_id, kind)
                return odd_detail(data, kind)
        return data

    def _odd_card(self, query: ValidQuery, index: int, card: Any) -> Any:
        if not is_note_card(card):
            return card
        kind = self.odd_kind("card:%s:%d" % (query.billing_key, index))
        if kind is None:
            return card
        self.stats.record_odd_value(FEED, card["id"], kind)
        return odd_card(card, kind)

    def _billed_answer(self, query: ValidQuery, code: int, data: Any) -> Answer:
        if code == 0 and self.config.odd_value_rate > 0:
            data = self.with_odd_values(query, data)
        return super()._billed_answer(query, code, data)

    def _envelope_body(self, code: int, data: Any) -> bytes:
        body = super()._envelope_body(code, data)
        if _DEEP_MARKER_JSON in body:
            body = body.replace(_DEEP_MARKER_JSON, _DEEP_JSON)
        return body
