"""The sandbox HTTP server: live config, call statistics and twisted.web resources."""

from __future__ import annotations

import json
import logging
import random
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from twisted.internet.interfaces import IReactorTime
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from xhs_spider.sandbox.data import CHANNELS, CHINA_TZ, DEFAULT_CHANNEL, FeedUniverse, is_valid_note_id
from xhs_spider.sandbox.faults import (
    BUSINESS_CODE,
    DATALOSS,
    HTTP_FAULT_KINDS,
    MALFORMED,
    REDIRECT,
    TRUNCATED,
    FaultInjector,
    FaultRates,
    InjectedFault,
    TokenBucket,
    business_http_status,
    html_error_page,
    malformed_body,
    truncate_body,
)

logger = logging.getLogger(__name__)

FEED = "feed"
DETAIL = "detail"
API_PATHS = {
    "/api/xiaohongshu/get-note-feed/v1": FEED,
    "/api/xiaohongshu-pgy/get-note-detail/v1": DETAIL,
    "/api/xiaohongshu-pgy/api/solar/note/noteId/detail/v1": DETAIL,
}
CONTROL_PREFIX = "/__sandbox__/"
JSON_CONTENT_TYPE = b"application/json; charset=utf-8"
HTML_CONTENT_TYPE = b"text/html; charset=utf-8"
BILLED_CODES = (0, 201)
BOOLEAN_TEXTS = ("true", "false", "1", "0")
TOKEN_IN_URI = re.compile(r"(token=)[^&]*", re.IGNORECASE)

CODE_MESSAGES = {
    0: "success",
    100: "Invalid or Inactive Token",
    101: "Token Expired",
    201: "No Content",
    202: "Processing, Please Retry Later",
    300: "Service Busy",
    301: "Collection Failed. Please Retry.",
    302: "Rate Limit Exceeded",
    303: "Daily Quota Exceeded",
    400: "Invalid Parameters",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
    600: "Permission Denied",
    601: "Insufficient Balance",
    602: "Account Suspended",
}


class ConfigError(ValueError):
    """A config change that the sandbox refuses."""


class InvalidParameters(ValueError):
    """An API call whose parameters the vendor would answer with code 400."""


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError("a share must be a number between 0 and 1, got %r" % (value,))
    return float(value)


def _non_negative_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError("expected a non-negative number, got %r" % (value,))
    return float(value)


def _non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError("expected a non-negative integer, got %r" % (value,))
    return value


def _optional(validate: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else validate(value)


def _positive_number(value: Any) -> float:
    if _non_negative_number(value) == 0:
        raise ConfigError("expected a positive number, got 0")
    return float(value)


def _token(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError("token must be a non-empty string")
    return value


def _fault_shares(value: Any) -> dict[int, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("faults must be an object of code -> share")
    try:
        shares = {int(code): _share(share) for code, share in value.items()}
    except (TypeError, ValueError) as error:
        raise ConfigError("bad faults entry: %s" % error) from error
    if sum(shares.values()) > 1:
        raise ConfigError("fault shares add up to more than 1")
    return shares


CONFIG_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "token": _token,
    "faults": _fault_shares,
    "malformed_rate": _share,
    "truncated_rate": _share,
    "html_error_rate": _share,
    "redirect_rate": _share,
    "dataloss_rate": _share,
    "max_consecutive_faults": _non_negative_int,
    "quota": _optional(_non_negative_int),
    "rate_limit": _optional(_positive_number),
    "latency": _non_negative_number,
    "latency_jitter": _non_negative_number,
    "unavailable_rate": _share,
}


@dataclass
class SandboxConfig:
    token: str
    seed: int = 0
    pages: int = 8
    faults: dict[int, float] = field(default_factory=dict)
    malformed_rate: float = 0.0
    truncated_rate: float = 0.0
    html_error_rate: float = 0.0
    redirect_rate: float = 0.0
    dataloss_rate: float = 0.0
    max_consecutive_faults: int = 2
    quota: int | None = None
    rate_limit: float | None = None
    latency: float = 0.0
    latency_jitter: float = 0.0
    unavailable_rate: float = 0.03

    def apply_update(self, changes: dict[str, Any]) -> None:
        """Validate every change first, so a bad request changes nothing."""
        unknown = sorted(set(changes) - set(CONFIG_VALIDATORS))
        if unknown:
            raise ConfigError("unknown config keys: %s" % ", ".join(unknown))
        validated = {name: CONFIG_VALIDATORS[name](value) for name, value in changes.items()}
        for name, value in validated.items():
            setattr(self, name, value)

    def public_view(self) -> dict[str, Any]:
        view = asdict(self)
        del view["token"]
        view["faults"] = {str(code): share for code, share in sorted(self.faults.items())}
        return view

    def fault_rates(self) -> FaultRates:
        return FaultRates(
            codes=dict(self.faults),
            malformed=self.malformed_rate,
            truncated=self.truncated_rate,
            html=self.html_error_rate,
            redirect=self.redirect_rate,
            dataloss=self.dataloss_rate,
            max_consecutive=self.max_consecutive_faults,
        )


class SandboxStats:
    """What the sandbox answered since start or the last reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.calls = 0
        self.billed = 0
        self.calls_by_endpoint = Counter({FEED: 0, DETAIL: 0})
        self.billed_by_endpoint = Counter({FEED: 0, DETAIL: 0})
        self.codes: Counter[str] = Counter()
        self.http_faults = Counter({kind: 0 for kind in HTTP_FAULT_KINDS})
        self.detail_billed_by_note: Counter[str] = Counter()
        self.feed_billed_by_page: Counter[str] = Counter()

    def record_call(self, endpoint: str) -> None:
        self.calls += 1
        self.calls_by_endpoint[endpoint] += 1

    def record_code(self, code: int) -> None:
        self.codes[str(code)] += 1

    def record_http_fault(self, kind: str) -> None:
        self.http_faults[kind] += 1

    def record_billing(self, endpoint: str, billing_key: str) -> None:
        self.billed += 1
        self.billed_by_endpoint[endpoint] += 1
        by_key = self.detail_billed_by_note if endpoint == DETAIL else self.feed_billed_by_page
        by_key[billing_key] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "billed": self.billed,
            "calls_by_endpoint": dict(self.calls_by_endpoint),
            "billed_by_endpoint": dict(self.billed_by_endpoint),
            "codes": dict(self.codes),
            "http_faults": dict(self.http_faults),
            "detail_billed_by_note": dict(self.detail_billed_by_note),
            "feed_billed_by_page": dict(self.feed_billed_by_page),
        }


@dataclass(frozen=True)
class Answer:
    http_status: int
    body: bytes
    content_type: bytes = JSON_CONTENT_TYPE
    location: str | None = None
    #: Announce this many bytes but send only the body, then drop the connection.
    announced_length: int | None = None


@dataclass(frozen=True)
class ValidQuery:
    endpoint: str
    billing_key: str
    oid: str = ""
    page: int = 0
    note_id: str = ""


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_answer(value: Any, http_status: int = 200) -> Answer:
    return Answer(http_status, json_bytes(value))


def mask_token(uri: str) -> str:
    return TOKEN_IN_URI.sub(r"\1***", uri)


GROWING_COUNTERS = ("likeNum", "favNum", "cmtNum", "shareNum", "readNum", "impNum")


def grown(detail: dict, earlier_fetches: int) -> dict:
    """*detail* with its counters grown by about 5 % per earlier fetch."""
    if not earlier_fetches:
        return detail
    grown_detail = dict(detail)
    for name in GROWING_COUNTERS:
        base = detail[name]
        grown_detail[name] = base + earlier_fetches * (base // 20 + 1)
    return grown_detail


def request_key(path: str, params: dict[str, str]) -> str:
    """The logical request: path and parameters without the token."""
    return path + "?" + urlencode(sorted((name, value) for name, value in params.items() if name != "token"))


def validate_feed(params: dict[str, str]) -> ValidQuery:
    oid = params.get("oid") or DEFAULT_CHANNEL
    if oid not in CHANNELS:
        raise InvalidParameters("unknown oid")
    try:
        page = int(params.get("page") or "1")
    except ValueError as error:
        raise InvalidParameters("page is not an integer") from error
    if page < 1:
        raise InvalidParameters("page must be at least 1")
    return ValidQuery(FEED, "%s:%d" % (oid, page), oid=oid, page=page)


def validate_detail(params: dict[str, str]) -> ValidQuery:
    note_id = params.get("noteId", "")
    if not is_valid_note_id(note_id):
        raise InvalidParameters("noteId must be 24 lowercase hex characters")
    accept_cache = params.get("acceptCache")
    if accept_cache is not None and accept_cache.lower() not in BOOLEAN_TEXTS:
        raise InvalidParameters("acceptCache must be a boolean")
    return ValidQuery(DETAIL, note_id, note_id=note_id)


VALIDATORS = {FEED: validate_feed, DETAIL: validate_detail}


class SandboxApi:
    """The vendor's behaviour, independent of the HTTP plumbing."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.stats = SandboxStats()
        self.universe = FeedUniverse(config.seed, config.pages)
        self._clock = clock
        self._injector = FaultInjector(config.seed)
        self._bucket = self._new_bucket()

    def _new_bucket(self) -> TokenBucket | None:
        if self.config.rate_limit is None:
            return None
        return TokenBucket(self.config.rate_limit, self._clock)

    def reset(self) -> None:
        self.stats.reset()
        self._injector.reset()
        self._bucket = self._new_bucket()

    def configure(self, changes: dict[str, Any]) -> None:
        self.config.apply_update(changes)
        if "rate_limit" in changes:
            self._bucket = self._new_bucket()

    def answer(self, path: str, params: dict[str, str]) -> Answer:
        endpoint = API_PATHS[path]
        self.stats.record_call(endpoint)
        if params.get("token") != self.config.token:
            return self._business_answer(100)
        if self.config.quota is not None and self.stats.billed >= self.config.quota:
            return self._business_answer(303)
        if self._bucket is not None and not self._bucket.try_take():
            return self._business_answer(302)
        try:
            query = VALIDATORS[endpoint](params)
        except InvalidParameters as error:
            logger.debug("invalid %s parameters: %s", endpoint, error)
            return self._business_answer(400)
        fault = self._injector.decide(request_key(path, params), self.config.fault_rates())
        if fault is None:
            return self._real_answer(query)
        return self._fault_answer(fault, query, path, params)

    def _real_answer(self, query: ValidQuery) -> Answer:
        if query.endpoint == FEED:
            return self._billed_answer(query, 0, self.universe.feed_page(query.oid, query.page))
        if self.universe.is_unavailable(query.note_id, self.config.unavailable_rate):
            return self._billed_answer(query, 201, None)
        detail = self.universe.note_detail(query.note_id)
        # Engagement grows between fetches, so refreshes have something to show.
        earlier = self.stats.detail_billed_by_note[query.note_id]
        return self._billed_answer(query, 0, grown(detail, earlier))

    def _fault_answer(
        self, fault: InjectedFault, query: ValidQuery, path: str, params: dict[str, str]
    ) -> Answer:
        if fault.kind == BUSINESS_CODE and fault.code in BILLED_CODES:
            return self._billed_answer(query, fault.code, None)
        if fault.kind == BUSINESS_CODE and fault.code is not None:
            return self._business_answer(fault.code, business_http_status(fault.code, fault.variant))
        self.stats.record_http_fault(fault.kind)
        if fault.kind == MALFORMED:
            return Answer(fault.http_status, malformed_body(fault.variant))
        if fault.kind == TRUNCATED:
            full = self._envelope_body(0, self._real_data(query))
            return Answer(fault.http_status, truncate_body(full, fault.variant))
        if fault.kind == REDIRECT:
            location = "%s?%s" % (path, urlencode({**params, "redirected": "1"}))
            return Answer(fault.http_status, b"", location=location)
        if fault.kind == DATALOSS:
            full = self._envelope_body(0, self._real_data(query))
            cut = truncate_body(full, fault.variant)
            return Answer(fault.http_status, cut, announced_length=len(full))
        return Answer(fault.http_status, html_error_page(fault.http_status), HTML_CONTENT_TYPE)

    def _real_data(self, query: ValidQuery) -> Any:
        if query.endpoint == FEED:
            return self.universe.feed_page(query.oid, query.page)
        return self.universe.note_detail(query.note_id)

    def _billed_answer(self, query: ValidQuery, code: int, data: Any) -> Answer:
        self.stats.record_billing(query.endpoint, query.billing_key)
        self.stats.record_code(code)
        return Answer(200, self._envelope_body(code, data))

    def _business_answer(self, code: int, http_status: int | None = None) -> Answer:
        self.stats.record_code(code)
        if http_status is None:
            http_status = business_http_status(code, 0.0)
        return Answer(http_status, self._envelope_body(code, None))

    def _envelope_body(self, code: int, data: Any) -> bytes:
        billed = code in BILLED_CODES
        record_time = datetime.fromtimestamp(self._clock(), CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
        return json_bytes(
            {
                "code": code,
                "data": data,
                "message": CODE_MESSAGES.get(code, "Unknown Error"),
                "recordTime": record_time if billed else None,
                "requestId": uuid.uuid4().hex,
            }
        )

    def notes_preview(self, params: dict[str, str]) -> dict[str, Any]:
        query = validate_feed(params)
        note_ids = self.universe.page_note_ids(query.oid, query.page)
        unavailable = [
            note_id for note_id in note_ids if self.universe.is_unavailable(note_id, self.config.unavailable_rate)
        ]
        return {"oid": query.oid, "page": query.page, "note_ids": note_ids, "unavailable_note_ids": unavailable}

    def channels(self) -> dict[str, Any]:
        return {"channels": list(CHANNELS), "default": DEFAULT_CHANNEL, "pages": self.universe.pages}


def first_values(request: Request) -> dict[str, str]:
    return {
        name.decode("utf-8", "replace"): values[0].decode("utf-8", "replace")
        for name, values in (request.args or {}).items()
        if values
    }


def error_envelope(code: int) -> dict[str, Any]:
    return {"code": code, "data": None, "message": CODE_MESSAGES[code], "recordTime": None, "requestId": uuid.uuid4().hex}


def not_found() -> Answer:
    return json_answer(error_envelope(404), 404)


def method_not_allowed() -> Answer:
    return json_answer({"ok": False, "error": "method not allowed"}, 405)


class SandboxResource(Resource):
    """Routes every path itself: API calls (with latency) and control calls."""

    isLeaf = True

    def __init__(self, api: SandboxApi, reactor: IReactorTime) -> None:
        super().__init__()
        self.api = api
        self.reactor = reactor
        self._latency_rng = random.Random(api.config.seed)

    def render_GET(self, request: Request) -> int:
        return self._dispatch(request, "GET")

    def render_POST(self, request: Request) -> int:
        return self._dispatch(request, "POST")

    def _dispatch(self, request: Request, method: str) -> int:
        path = request.path.decode("utf-8", "replace")
        if path in API_PATHS and method == "GET":
            return self._answer_api_later(request, path)
        self._send(request, self._safely(lambda: self._control_answer(request, method, path), path))
        return NOT_DONE_YET

    def _answer_api_later(self, request: Request, path: str) -> int:
        config = self.api.config
        delay = config.latency + self._latency_rng.uniform(0, config.latency_jitter)
        params = first_values(request)
        delayed = self.reactor.callLater(
            delay, lambda: self._send(request, self._safely(lambda: self.api.answer(path, params), path))
        )
        # A client that gives up during the delay must not get a write on a dead connection.
        request.notifyFinish().addErrback(lambda _failure: delayed.cancel() if delayed.active() else None)
        return NOT_DONE_YET

    def _safely(self, produce: Callable[[], Answer], path: str) -> Answer:
        try:
            return produce()
        except Exception:
            logger.exception("sandbox failed to answer %s", path)
            return json_answer(error_envelope(500), 500)

    def _control_answer(self, request: Request, method: str, path: str) -> Answer:
        if not path.startswith(CONTROL_PREFIX):
            return not_found()
        action = path[len(CONTROL_PREFIX):]
        handlers = {
            ("GET", "stats"): lambda: json_answer(self.api.stats.as_json()),
            ("POST", "reset"): self._reset,
            ("GET", "config"): lambda: json_answer(self.api.config.public_view()),
            ("POST", "config"): lambda: self._configure(request),
            ("GET", "notes"): lambda: self._notes(request),
            ("GET", "channels"): lambda: json_answer(self.api.channels()),
        }
        handler = handlers.get((method, action))
        if handler is not None:
            return handler()
        if any(known_action == action for _, known_action in handlers):
            return method_not_allowed()
        return not_found()

    def _reset(self) -> Answer:
        self.api.reset()
        logger.info("counters reset")
        return json_answer({"ok": True})

    def _configure(self, request: Request) -> Answer:
        try:
            changes = json.loads(request.content.read() or b"{}")
            if not isinstance(changes, dict):
                raise ConfigError("the body must be a JSON object")
            self.api.configure(changes)
        except (ValueError, ConfigError) as error:
            return json_answer({"ok": False, "error": str(error)}, 400)
        logger.info("config updated: %s", ", ".join(sorted(changes)))
        return json_answer(self.api.config.public_view())

    def _notes(self, request: Request) -> Answer:
        try:
            return json_answer(self.api.notes_preview(first_values(request)))
        except InvalidParameters as error:
            return json_answer({"ok": False, "error": str(error)}, 400)

    @staticmethod
    def _send(request: Request, answer: Answer) -> None:
        request.setResponseCode(answer.http_status)
        request.setHeader(b"content-type", answer.content_type)
        if answer.location is not None:
            request.setHeader(b"location", answer.location.encode("utf-8"))
        announced = answer.announced_length or len(answer.body)
        request.setHeader(b"content-length", b"%d" % announced)
        request.write(answer.body)
        if answer.announced_length is not None:
            request.channel.transport.abortConnection()
            return
        request.finish()


class QuietSite(Site):
    """A Site whose access log never carries the token."""

    noisy = False

    def log(self, request: Request) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            uri = mask_token(request.uri.decode("utf-8", "replace"))
            logger.debug("%s %s -> %d", request.method.decode("ascii", "replace"), uri, request.code)


def build_site(config: SandboxConfig, reactor: IReactorTime) -> Site:
    api = SandboxApi(config, clock=reactor.seconds)
    return QuietSite(SandboxResource(api, reactor))
