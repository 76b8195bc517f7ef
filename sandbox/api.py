"""What the vendor answers to an API call, and what it bills.

Token, quota and rate limit are checked first, then the parameters; then the
call gets either an injected fault or the real answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sandbox.answers import BILLED_CODES, Answer, envelope_body
from sandbox.comment_data import CommentUniverse
from sandbox.comments import CommentService
from sandbox.config import SandboxConfig
from sandbox.data import CHANNELS, DEFAULT_CHANNEL, FeedUniverse
from sandbox.discovery import DiscoveryService
from sandbox.discovery_data import DiscoveryUniverse
from sandbox.endpoints import (
    API_PATHS,
    DETAIL,
    FEED,
    VALIDATORS,
    InvalidParameters,
    ValidQuery,
    request_key,
    validate_feed,
)
from sandbox.fault_answers import http_fault_answer
from sandbox.faults import (
    BUSINESS_CODE,
    FaultInjector,
    InjectedFault,
    TokenBucket,
    business_http_status,
    note_code,
)
from sandbox.queries import UnknownTarget
from sandbox.stats import SandboxStats

logger = logging.getLogger(__name__)

#: The comment counter is not among them: it grows with the comments the
#: note gains (``POST /__sandbox__/grow-comments``), so a client can tell
#: from it whether there is anything new to read.
GROWING_COUNTERS = ("likeNum", "favNum", "shareNum", "readNum", "impNum")


def grown(detail: dict, earlier_fetches: int) -> dict:
    """*detail* with its counters grown by about 5 % per earlier fetch."""
    if not earlier_fetches:
        return detail
    grown_detail = dict(detail)
    for name in GROWING_COUNTERS:
        base = detail[name]
        grown_detail[name] = base + earlier_fetches * (base // 20 + 1)
    return grown_detail


class SandboxApi:
    """The vendor's behaviour, independent of the HTTP plumbing."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.stats = SandboxStats(clock)
        self.universe = FeedUniverse(config.seed, config.pages)
        self.discovery = DiscoveryService(DiscoveryUniverse(self.universe), config)
        self.comments = CommentService(CommentUniverse(self.universe), config)
        self._clock = clock
        self._injector = FaultInjector(config.seed)
        self._bucket = self._new_bucket()

    def _new_bucket(self) -> TokenBucket | None:
        if self.config.rate_limit is None:
            return None
        return TokenBucket(self.config.rate_limit, self._clock)

    def reset(self) -> None:
        self.stats.reset()
        self.discovery.universe.reset()
        self.comments.universe.reset()
        self._injector.reset()
        self._bucket = self._new_bucket()

    def configure(self, changes: dict[str, Any]) -> None:
        self.config.apply_update(changes)
        if "rate_limit" in changes:
            self._bucket = self._new_bucket()

    def answer(self, path: str, params: dict[str, str]) -> Answer:
        endpoint = API_PATHS[path]
        self.stats.record_call(endpoint, path)
        refusal = self._refusal(path, params)
        if refusal is not None:
            return self._business_answer(refusal)
        try:
            query = self._valid_query(endpoint, path, params)
        except InvalidParameters as error:
            logger.debug("invalid %s parameters: %s", endpoint, error)
            return self._business_answer(400)
        except UnknownTarget as error:
            logger.debug("%s: %s", endpoint, error)
            return self._business_answer(404)
        if query.endpoint == DETAIL:
            self.stats.record_note_call(query.note_id)
            code = note_code(self.config.seed, query.note_id, self.config.note_codes)
            if code is not None:
                return self._business_answer(code)
        fault = self._injector.decide(request_key(path, params), self.config.fault_rates())
        if fault is None:
            return self._real_answer(query)
        return self._fault_answer(fault, query, path, params)

    def _refusal(self, path: str, params: dict[str, str]) -> int | None:
        """The code of a call refused before its parameters are read: token, quota, rate limit, retired path."""
        if params.get("token") != self.config.token:
            return 100
        if self.config.quota is not None and self.stats.billed >= self.config.quota:
            return 303
        if self._bucket is not None and not self._bucket.try_take():
            return 302
        if path in self.config.retired_paths:
            return 301
        return None

    def _valid_query(self, endpoint: str, path: str, params: dict[str, str]) -> ValidQuery:
        """The call's query, once its parameters pass; a discovery call's cursor and
        user id are checked against the data too."""
        query = replace(VALIDATORS[endpoint](params), path=path)
        if query.request is not None or (query.comments is not None and not self._unavailable(query)):
            self._real_data(query)
        return query

    def _unavailable(self, query: ValidQuery) -> bool:
        """Whether the note asked about answers 201 (its detail, its comments, its replies)."""
        return self.universe.is_unavailable(query.note_id, self.config.unavailable_rate)

    def _real_answer(self, query: ValidQuery) -> Answer:
        if query.endpoint != FEED and query.request is None and self._unavailable(query):
            return self._billed_answer(query, 201, None)
        if query.endpoint == DETAIL:
            # Engagement grows between fetches, so refreshes have something to show.
            earlier = self.stats.detail_billed_by_note[query.note_id]
            return self._billed_answer(query, 0, grown(self._real_data(query), earlier))
        return self._billed_answer(query, 0, self._real_data(query))

    def _fault_answer(
        self, fault: InjectedFault, query: ValidQuery, path: str, params: dict[str, str]
    ) -> Answer:
        if fault.kind == BUSINESS_CODE and fault.code in BILLED_CODES:
            return self._billed_answer(query, fault.code, None)
        if fault.kind == BUSINESS_CODE and fault.code is not None:
            return self._business_answer(
                fault.code, business_http_status(fault.code, fault.variant)
            )
        self.stats.record_http_fault(fault.kind)
        return http_fault_answer(
            fault, path, params, lambda: self._envelope_body(0, self._real_data(query))
        )

    def _real_data(self, query: ValidQuery) -> Any:
        if query.request is not None:
            return self.discovery.data(query)
        if query.comments is not None:
            return self.comments.data(query)
        if query.endpoint == FEED:
            return self.universe.feed_page(query.oid, query.page)
        detail = self.universe.note_detail(query.note_id)
        detail["cmtNum"] = self.comments.universe.counter(query.note_id)
        return detail

    def _billed_answer(self, query: ValidQuery, code: int, data: Any) -> Answer:
        self.stats.record_billing(query.endpoint, query.billing_key, query.path)
        self.stats.record_code(code)
        return Answer(200, self._envelope_body(code, data))

    def _business_answer(self, code: int, http_status: int | None = None) -> Answer:
        self.stats.record_code(code)
        if http_status is None:
            http_status = business_http_status(code, 0.0)
        return Answer(http_status, self._envelope_body(code, None))

    def _envelope_body(self, code: int, data: Any) -> bytes:
        return envelope_body(code, data, self._clock())

    def notes_preview(self, params: dict[str, str]) -> dict[str, Any]:
        query = validate_feed(params)
        note_ids = self.universe.page_note_ids(query.oid, query.page)
        unavailable = [
            note_id
            for note_id in note_ids
            if self.universe.is_unavailable(note_id, self.config.unavailable_rate)
        ]
        coded: dict[str, list[str]] = {}
        for note_id in note_ids:
            code = note_code(self.config.seed, note_id, self.config.note_codes)
            if code is not None:
                coded.setdefault(str(code), []).append(note_id)
        return {
            "oid": query.oid,
            "page": query.page,
            "note_ids": note_ids,
            "unavailable_note_ids": unavailable,
            "note_ids_by_code": coded,
        }

    def channels(self) -> dict[str, Any]:
        return {
            "channels": list(CHANNELS),
            "default": DEFAULT_CHANNEL,
            "pages": self.universe.pages,
        }
