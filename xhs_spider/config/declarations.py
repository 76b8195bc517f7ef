"""Every setting of the project, declared once: name, default, type, check, doc.

The add-on applies the defaults, the environment overrides the names, the
``crawl`` command checks the values, and components read them, all from the
declarations below; ``docs/settings.md`` documents them (a test keeps the
two in step). Scrapyd passes every setting as a string: each is read with a
typed getter, and a value that does not fit raises ``ValueError`` naming
the setting.

Each constant is its setting's name without the ``JUSTONEAPI_`` or ``XHS_``
prefix, except where that short name means something else too (a stats key
of :mod:`xhs_spider.stats`, a setting of Scrapy's): then it is the setting's
whole name (``XHS_FEED_PAGES``, where ``stats.FEED_PAGES`` counts feed pages
read; ``JUSTONEAPI_RETRY_TIMES``, beside Scrapy's ``RETRY_TIMES``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

from xhs_spider.run.identity import expand_crawl_id

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

T = TypeVar("T")

PROD_GLOBAL_URL = "https://api.justoneapi.com"
PROD_CN_URL = "http://47.117.133.51:30015"
#: The embedded store when XHS_STORE_URI is unset (relative to the working directory).
DEFAULT_STORE_PATH = "data/xhs.sqlite3"

#: Every declared setting, by name, in declaration order.
DECLARED: dict[str, Setting[Any]] = {}


@dataclass(frozen=True)
class Setting(Generic[T]):
    name: str
    default: T
    doc: str
    read: Callable[[BaseSettings, str], T]
    valid: Callable[[T], bool]
    expected: str

    def get(self, settings: BaseSettings) -> T:
        """The value, typed and checked; ``ValueError`` naming the setting."""
        try:
            value = self.read(settings, self.name)
            usable = self.valid(value)
        except (TypeError, ValueError):
            usable = False
        if not usable:
            raise ValueError(
                f"Setting {self.name}={settings.get(self.name)!r}: expected {self.expected}."
            )
        return value


def _declare(setting: Setting[T]) -> Setting[T]:
    DECLARED[setting.name] = setting
    return setting


def _whole(name: str, default: int, doc: str, *, minimum: int = 0, maximum: int | None = None,
           expected: str = "") -> Setting[int]:
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
    return _declare(Setting(
        name, default, doc, lambda s, n: s.getint(n),
        lambda v: v >= minimum and (maximum is None or v <= maximum),
        expected or f"a whole number {bounds}",
    ))


def _seconds(name: str, default: float, doc: str, *, positive: bool = False,
             expected: str = "") -> Setting[float]:
    return _declare(Setting(
        name, default, doc, lambda s, n: s.getfloat(n),
        (lambda v: v > 0) if positive else (lambda v: v >= 0),
        expected or ("seconds, more than 0" if positive else "seconds, 0 or more"),
    ))


def _flag(name: str, default: bool, doc: str) -> Setting[bool]:
    return _declare(Setting(name, default, doc, lambda s, n: s.getbool(n), lambda v: True,
                            "true or false"))


def _text(name: str, default: str, doc: str, *, valid: Callable[[str], bool],
          expected: str) -> Setting[str]:
    return _declare(Setting(name, default, doc, lambda s, n: str(s.get(n)), valid, expected))


def _optional(name: str, doc: str) -> Setting[str | None]:
    """A text setting that may be unset; blank counts as unset."""
    return _declare(Setting(
        name, None, doc, lambda s, n: str(s.get(n) or "").strip() or None, lambda v: True,
        "text",
    ))


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    # .port raises ValueError for a port that is not a number up to 65535:
    # the crawl would fail on every request, and Scrapy with a traceback.
    return (
        parts.scheme in ("http", "https") and bool(parts.hostname)
        and parts.port != 0 and not any(char.isspace() for char in value)
    )


def _is_path(value: str) -> bool:
    return value.startswith("/")


def _paths(name: str, default: list[str], doc: str) -> Setting[list[str]]:
    """An ordered list of paths of one endpoint, like ``JUSTONEAPI_DETAIL_PATH``."""
    return _declare(Setting(
        name, default, doc,
        lambda s, n: [path.strip() for path in s.getlist(n) if path.strip()],
        lambda paths: bool(paths) and all(_is_path(path) for path in paths),
        "one or more paths starting with /, separated by commas",
    ))


# Just One API ---------------------------------------------------------------

TOKEN = _optional(
    "JUSTONEAPI_TOKEN", "the API token; the crawl refuses to start without it",
)
BASE_URL = _text(
    "JUSTONEAPI_BASE_URL", PROD_GLOBAL_URL,
    f"prod-global; prod-cn is `{PROD_CN_URL}` (plain HTTP: warned about)",
    valid=_is_http_url, expected="an http:// or https:// URL (its port, if any, from 1 to 65535)",
)
# The vendor is retiring both paths: they are settings so that a move is a
# configuration change, not a code change.
FEED_PATH = _text(
    "JUSTONEAPI_FEED_PATH", "/api/xiaohongshu/get-note-feed/v1",
    "the feed endpoint; the vendor's SDK no longer ships it",
    valid=_is_path, expected="a path starting with /",
)
DETAIL_PATHS = _paths(
    "JUSTONEAPI_DETAIL_PATH",
    ["/api/xiaohongshu-pgy/get-note-detail/v1", "/api/xiaohongshu-pgy/api/solar/note/noteId/detail/v1"],
    "the note detail endpoints that answer the same payload, in order of preference "
    "(a list, or paths separated by commas): when one answers only failures, the crawl "
    "moves to the next",
)
SEARCH_PATHS = _paths(
    "JUSTONEAPI_SEARCH_PATH",
    ["/api/xiaohongshu/search-note/v4", "/api/xiaohongshu/search-note/v2"],
    "the keyword search endpoints, in order of preference, with the same fallback as the "
    "detail's; on `search-note/v2` the query is mapped from v4's (`sort`, `noteType` `_0`/"
    "`_1`/`_2`, `noteTime`)",
)
USER_NOTES_PATHS = _paths(
    "JUSTONEAPI_USER_NOTES_PATH", ["/api/xiaohongshu/get-user-note-list/v4"],
    "the endpoints of a creator's notes, in order of preference",
)
TOPIC_NOTES_PATHS = _paths(
    "JUSTONEAPI_TOPIC_NOTES_PATH", ["/api/xiaohongshu/get-topic-note-list/v1"],
    "the endpoints of a topic's notes, in order of preference",
)
USER_PATHS = _paths(
    "JUSTONEAPI_USER_PATH", ["/api/xiaohongshu/get-user/v3"],
    "the endpoints of a creator's profile, in order of preference",
)
SHARE_PATHS = _paths(
    "JUSTONEAPI_SHARE_PATH", ["/api/xiaohongshu/share-url-transfer/v1"],
    "the endpoints resolving an `xhslink.com` share link, in order of preference",
)
ENDPOINT_FAILURES = _whole(
    "JUSTONEAPI_ENDPOINT_FAILURES", 10,
    "failures in a row (codes 301, 404, 500, a body that is not JSON, HTTP 404 or 410) with "
    "no success for 30 s after which an endpoint counts as retired: the crawl moves to the "
    "endpoint's next path, or ends `justoneapi_endpoint_failing` when there is none",
    minimum=1,
)
ACCEPT_CACHE = _flag(
    "JUSTONEAPI_ACCEPT_CACHE", False, "send `acceptCache=true` on detail calls",
)
JUSTONEAPI_RETRY_TIMES = _whole(
    "JUSTONEAPI_RETRY_TIMES", 5,
    "retries of a transient failure before giving up on the request; Scrapy's "
    "`RETRY_TIMES` (network errors) counts in the same `retry_times` of the request",
)
RETRY_BACKOFF_BASE = _seconds(
    "JUSTONEAPI_RETRY_BACKOFF_BASE", 1.0, "seconds before the first retry; doubles each time",
)
RETRY_BACKOFF_MAX = _seconds(
    "JUSTONEAPI_RETRY_BACKOFF_MAX", 30.0, "longest wait before a retry (s)",
)
RATE_LIMIT_RETRY_TIMES = _whole(
    "JUSTONEAPI_RATE_LIMIT_RETRY_TIMES", 10, "retries of one request answered 302",
)
MAX_RPS = _declare(Setting(
    "JUSTONEAPI_MAX_RPS", 0.0,
    "`0`: not known. The plan's cap in calls per second, all endpoints together: calls are "
    "paced to it smoothly. Unknown, the crawl finds the cap from the API's 302 answers",
    lambda s, n: s.getfloat(n), lambda v: v >= 0, "calls per second, 0 (not known) or more",
))
RATE_BACKOFF = _declare(Setting(
    "JUSTONEAPI_RATE_BACKOFF", 0.75,
    "factor applied to the call rate once per congestion event (a burst of 302 answers)",
    lambda s, n: s.getfloat(n), lambda v: 0 < v < 1, "a factor between 0 and 1",
))
RATE_RECOVERY = _declare(Setting(
    "JUSTONEAPI_RATE_RECOVERY", 1.0,
    "calls per second the rate grows back by, each second without a 302",
    lambda s, n: s.getfloat(n), lambda v: v > 0, "calls per second, more than 0",
))
MAX_BILLED_CALLS = _whole(
    "JUSTONEAPI_MAX_BILLED_CALLS", 0,
    "`0`: unlimited. Stop with `justoneapi_budget_exhausted` once this many billed calls "
    "were made; calls in flight count against it, so it is never overshot",
    expected="a whole number, 0 (unlimited) or more",
)

MAX_GIVE_UP_SHARE = _declare(Setting(
    "JUSTONEAPI_MAX_GIVE_UP_SHARE", 0.1,
    "a crawl that gave up on more than this share of its calls (after their retries) "
    "ends `justoneapi_too_many_give_ups`, exit status 1",
    lambda s, n: s.getfloat(n), lambda v: 0 <= v <= 1, "a share from 0 to 1",
))
MIN_GIVE_UP_SAMPLE = _whole(
    "JUSTONEAPI_MIN_GIVE_UP_SAMPLE", 20,
    "fewest calls (billed ones and give-ups) on which `JUSTONEAPI_MAX_GIVE_UP_SHARE` is "
    "judged; a smaller run ends `justoneapi_too_many_give_ups` only if no call was billed",
    minimum=1,
)

# Storage ---------------------------------------------------------------------

STORE_URI = _optional(
    "XHS_STORE_URI",
    f"`sqlite:///…` or `mongodb://…/db`; unset: SQLite `{DEFAULT_STORE_PATH}`",
)
STORE_BATCH_SIZE = _whole(
    "XHS_STORE_BATCH_SIZE", 500, "operations per bulk write", minimum=1,
)
STORE_FLUSH_INTERVAL = _seconds(
    "XHS_STORE_FLUSH_INTERVAL", 5.0, "seconds between timed flushes", positive=True,
)
STORE_RETRY_TIMES = _whole(
    "XHS_STORE_RETRY_TIMES", 5, "retries of a failed write before spilling",
)
STORE_RETRY_BACKOFF = _seconds(
    "XHS_STORE_RETRY_BACKOFF", 1.0, "seconds before the first retry of a write; doubles, "
    "at most 30 s",
)
SPILL_DIR = _optional(
    "XHS_SPILL_DIR", "where spill files go; unset: next to the SQLite file, else `data/`",
)
CLAIM_TTL = _whole(
    "XHS_CLAIM_TTL", 15 * 60,
    "seconds a crawl's lease on a note lasts: other crawls do not pay for the note "
    "meanwhile, and take it over once the lease has expired (a crawl that died)",
    minimum=1, expected="seconds as a whole number, 1 or more",
)
DETAIL_TTL = _whole(
    "XHS_DETAIL_TTL", 24 * 60 * 60,
    "seconds a fetched detail (or a 201) stays fresh; `0`: never fresh",
    expected="seconds as a whole number, 0 or more",
)
COMMENTS_TTL = _whole(
    "XHS_COMMENTS_TTL", 24 * 60 * 60,
    "seconds a note's fetched comments stay fresh: not asked again within them "
    "unless the note's comment counter grew; `0`: never fresh",
    expected="seconds as a whole number, 0 or more",
)

# Spiders and extensions ------------------------------------------------------

XHS_FEED_PAGES = _whole(
    "XHS_FEED_PAGES", 5, "default of `-a pages` of feed, search and topic", minimum=1,
    maximum=1000,
)
STATS_FILE = _optional(
    "XHS_STATS_FILE", "write the final stats as JSON to this path",
)
CSV_RAW_TEXT = _flag(
    "XHS_CSV_RAW_TEXT", False,
    "CSV cells as they are: `false` prefixes `'` to a text cell starting with `=`, `+`, `-`, "
    "`@`, a tab or a carriage return, so a spreadsheet shows it and never runs it as a formula",
)
PROGRESS_INTERVAL = _seconds(
    "XHS_PROGRESS_INTERVAL", 60.0, "seconds between progress lines; `0` turns them off",
    expected="seconds, 0 (off) or more",
)


# Distributed mode (docs/distributed.md) ----------------------------------------

REDIS_URL = _optional(
    "REDIS_URL",
    "`redis://:PASSWORD@host:port/db` (`rediss://` for TLS): workers share one crawl's queue "
    "through Redis (scrapy-redis); "
    "needs `XHS_CRAWL_ID`. Unset: one process, Scrapy's own scheduler",
)
CRAWL_ID = _declare(Setting(
    "XHS_CRAWL_ID", None,
    "with `REDIS_URL`: the shared crawl every worker joins, and the namespace of its Redis "
    "keys; the same id again resumes that crawl, a new one starts a new crawl; `{date}` and "
    "`{hour}` in it are expanded (UTC)",
    lambda s, n: expand_crawl_id(str(s.get(n) or "").strip()) or None,
    lambda v: v is None or bool(re.fullmatch(r"[A-Za-z0-9._-]{1,100}", v)),
    "up to 100 letters, digits, dots, dashes or underscores, and {date} or {hour}",
))
IDLE_CLOSE = _seconds(
    "XHS_IDLE_CLOSE", 30.0,
    "with `REDIS_URL`: a worker closes once the shared queue has stayed empty, and no live "
    "worker had a request in hand, for this many seconds",
    positive=True,
)

# Run health (docs/monitoring.md: the monitoring extra) ----------------------------


def _share(name: str, default: float, doc: str) -> Setting[float]:
    return _declare(Setting(name, default, doc, lambda s, n: s.getfloat(n),
                            lambda v: 0 <= v <= 1, "a share from 0 to 1"))


@dataclass(frozen=True)
class _SecretUrl(Setting[str | None]):
    """An http(s) URL that is a secret (a webhook's path is its key): a bad
    one is refused without being shown."""

    def get(self, settings: BaseSettings) -> str | None:
        value = str(settings.get(self.name) or "").strip() or None
        if value is not None and not _is_http_url(value):
            raise ValueError(f"Setting {self.name}: expected {self.expected} (not shown: a secret).")
        return value


ALERT_WEBHOOK = _declare(_SecretUrl(
    "XHS_ALERT_WEBHOOK", None,
    "a URL that receives one JSON POST `{\"text\": …}` per run whose checks failed (Slack, "
    "Mattermost, Discord-compatible incoming webhooks); setting it turns the monitors on. "
    "A secret: never logged or sent but masked",
    lambda s, n: s.get(n), lambda v: True, "an http(s) URL",
))
MONITORS = _flag(
    "XHS_MONITORS", False,
    "run the health checks at close (spidermon) and send failures to spidermon's actions "
    "configured by its own settings, also without `XHS_ALERT_WEBHOOK`",
)
HEALTH_RUNS = _whole(
    "XHS_HEALTH_RUNS", 5,
    "earlier finished runs of the same spider and arguments whose average item count a "
    "run is compared with", minimum=1,
)
HEALTH_MAX_DROP = _share(
    "XHS_HEALTH_MAX_DROP", 0.4,
    "a run whose item count (feed appearances and notes) is more than this share below "
    "the average of those runs fails its checks",
)
HEALTH_MIN_COVERAGE = _share(
    "XHS_HEALTH_MIN_COVERAGE", 0.9,
    "fewest share of a run's notes with a title, likes and a user, each",
)
HEALTH_MAX_GIVE_UP_SHARE = _share(
    "XHS_HEALTH_MAX_GIVE_UP_SHARE", 0.05,
    "most share of a run's calls given up on (below `JUSTONEAPI_MAX_GIVE_UP_SHARE`, which "
    "fails the run itself)",
)
HEALTH_MAX_302_SHARE = _share(
    "XHS_HEALTH_MAX_302_SHARE", 0.1, "most share of a run's calls answered 302 (rate limited)",
)
HEALTH_MAX_BILLED_PER_NOTE = _declare(Setting(
    "XHS_HEALTH_MAX_BILLED_PER_NOTE", 3.0,
    "most billed calls per note stored (judged when the run stored a note)",
    lambda s, n: s.getfloat(n), lambda v: v >= 1, "calls per note, 1 or more",
))
PROMETHEUS_PUSHGATEWAY = _optional(
    "XHS_PROMETHEUS_PUSHGATEWAY",
    "a Prometheus Pushgateway (`http://host:9091`) that receives the run's metrics at "
    "close, grouped by spider and crawl id",
)
PROMETHEUS_TEXTFILE = _optional(
    "XHS_PROMETHEUS_TEXTFILE",
    "write the run's metrics at close to this file (`….prom`, for node_exporter's "
    "textfile collector), replaced whole",
)
PROMETHEUS_JOB = _text(
    "XHS_PROMETHEUS_JOB", "xhs_spider", "the Pushgateway's `job` of the run's metrics",
    valid=lambda v: bool(re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", v)),
    expected="up to 100 letters, digits, dots, dashes or underscores",
)


def shared_crawl(settings: BaseSettings) -> str | None:
    """The id of the crawl this process shares with other workers through Redis
    (``REDIS_URL`` and ``XHS_CRAWL_ID`` both set), or ``None``: a crawl of its own.

    The one answer to "is this a shared crawl?": the shared queue, the shared
    rate cap and budget, the claims and the store's runs all ask it.
    ``ValueError`` for a bad value of either setting.
    """
    if REDIS_URL.get(settings) is None:
        return None
    return CRAWL_ID.get(settings)


def defaults() -> dict[str, object]:
    """Every declared setting's default, by name."""
    return {name: setting.default for name, setting in DECLARED.items()}
