"""The sandbox's live configuration and the checks on every change to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.comment_shapes import COMMENT_SHAPES
from sandbox.discovery_shapes import DISCOVERY_SHAPES, MIXED
from sandbox.faults import ODD_VALUE_KINDS, FaultRates


class ConfigError(ValueError):
    """A config change that the sandbox refuses."""


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


def _note_code_shares(value: Any) -> dict[int, float]:
    """Like ``faults``, for codes that a share of note ids always get; not the
    billed codes (0, and 201: ``unavailable_rate``)."""
    shares = _fault_shares(value)
    billed = sorted(code for code in shares if code in (0, 201))
    if billed:
        raise ConfigError("note_codes cannot hold billed codes (%s); unavailable_rate answers 201"
                          % ", ".join(map(str, billed)))
    return shares


def _odd_value_kinds(value: Any) -> tuple[str, ...]:
    """A list of kinds, or one comma-separated string of them."""
    if isinstance(value, str):
        value = [kind.strip() for kind in value.split(",") if kind.strip()]
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError("odd_values must be a non-empty list of kinds")
    unknown = sorted(set(value) - set(ODD_VALUE_KINDS))
    if unknown:
        raise ConfigError("unknown odd_values %s; expected some of %s" % (
            ", ".join(map(str, unknown)), ", ".join(ODD_VALUE_KINDS)))
    return tuple(kind for kind in ODD_VALUE_KINDS if kind in value)


def _paths(value: Any) -> tuple[str, ...]:
    """A list of API paths, or one comma-separated string of them; may be empty."""
    if isinstance(value, str):
        value = [path.strip() for path in value.split(",") if path.strip()]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(path, str) and path.startswith("/") for path in value
    ):
        raise ConfigError("retired_paths must be a list of paths starting with /")
    return tuple(value)


def _discovery_shape(value: Any) -> str:
    if value not in DISCOVERY_SHAPES:
        raise ConfigError("discovery_shape must be one of %s, got %r" % (", ".join(DISCOVERY_SHAPES), value))
    return str(value)


def _comment_shape(value: Any) -> str:
    if value not in COMMENT_SHAPES:
        raise ConfigError("comment_shape must be one of %s, got %r" % (", ".join(COMMENT_SHAPES), value))
    return str(value)


def _stuck_page(name: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if _non_negative_int(value) < 2:
            raise ConfigError("%s must be 2 or more (the page that repeats the one before)" % name)
        return int(value)

    return check


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
    "note_codes": _note_code_shares,
    "odd_value_rate": _share,
    "odd_values": _odd_value_kinds,
    "retired_paths": _paths,
    "discovery_shape": _discovery_shape,
    "discovery_stuck_page": _optional(_stuck_page("discovery_stuck_page")),
    "comment_shape": _comment_shape,
    "comment_stuck_page": _optional(_stuck_page("comment_stuck_page")),
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
    #: Business code -> share of note ids whose every detail call answers it
    #: (400: the vendor's "Invalid Parameters" for a note id; 503: a note the
    #: API keeps failing on), drawn from the seed and the note id.
    note_codes: dict[int, float] = field(default_factory=dict)
    #: Share of note cards and details that carry one odd value, of a kind
    #: drawn from ``odd_values``.
    odd_value_rate: float = 0.0
    odd_values: tuple[str, ...] = ODD_VALUE_KINDS
    #: Paths that answer code 301 ("collection failed") to every call, as the
    #: vendor's detail v1 was seen doing while its successor answered.
    retired_paths: tuple[str, ...] = ()
    #: The shape of the discovery endpoints' data: ``mixed`` (one drawn per
    #: endpoint and page from the seed), ``flat``, ``wrapped``, ``note_card``
    #: or ``unreadable`` (see :mod:`sandbox.discovery_shapes`).
    discovery_shape: str = MIXED
    #: From this page on, a discovery list repeats the page before it, with the
    #: same cursor and ``has_more`` true (None: lists advance to their end).
    discovery_stuck_page: int | None = None
    #: The shape of the comment endpoints' data: ``mixed`` (one drawn per
    #: endpoint and page from the seed), ``flat``, ``wrapped``, ``camel`` or
    #: ``unreadable`` (see :mod:`sandbox.comment_shapes`).
    comment_shape: str = MIXED
    #: From this page on, a note's comments (or a comment's replies) repeat the
    #: page before, with the same cursor and ``has_more`` true (None: they advance).
    comment_stuck_page: int | None = None

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
        view["note_codes"] = {str(code): share for code, share in sorted(self.note_codes.items())}
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
