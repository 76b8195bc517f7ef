"""The one place that decides how a run ended, and sums it up once; and how a
component ends the crawl early.

The engine closes the crawl with a reason (``finished``, or the reason a
component asked for first, with :func:`close_crawl`); a ``finished`` run that
did nothing of its job is judged failed (:mod:`xhs_spider.outcome.verdict`).
Some failures only show while the crawl is closing, such as the store's last
write spilling to disk: a component that finds one calls
:meth:`RunOutcome.fail`, which also closes the crawl if it still runs. When
the spider closes, the outcome is concluded once: the ``finish_reason`` stat,
and the summary that the log and the ``runs`` record both show.

It needs nothing above the settings, the stats and the run summary, so any
component (middleware, pipeline, extension, the distributed worker) may use it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro

from xhs_spider.config.declarations import MAX_GIVE_UP_SHARE, MIN_GIVE_UP_SAMPLE
from xhs_spider.feeds import feed_files
from xhs_spider.outcome.reasons import XHS_STORE_LOST
from xhs_spider.outcome.summary import run_summary
from xhs_spider.outcome.verdict import judged

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: When several failures are reported, the worst one names the run.
_SEVERITY = {XHS_STORE_LOST: 2}


class RunOutcome:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.failure: str | None = None
        self.max_give_up_share = MAX_GIVE_UP_SHARE.get(crawler.settings)
        self.min_give_up_sample = MIN_GIVE_UP_SAMPLE.get(crawler.settings)
        self.summary: dict[str, Any] | None = None
        #: False until the engine has stopped cleanly: a second Ctrl-C or
        #: SIGTERM stops the reactor before that.
        self.closed_cleanly = False
        # Connected after CoreStats, which sets finish_reason to the engine's.
        crawler.signals.connect(self.conclude, signal=signals.spider_closed)
        crawler.signals.connect(self._engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def fail(self, reason: str) -> None:
        """The run failed for *reason*, whatever the engine closes it with."""
        if self.failure is None or _SEVERITY.get(reason, 1) > _SEVERITY.get(self.failure, 1):
            self.failure = reason
        close_crawl(self.crawler, reason)

    def reason(self, engine_reason: str) -> str:
        """The finish reason of a run the engine closes with *engine_reason*:
        a failure reported, else the engine's reason as judged."""
        return self.failure or judged(engine_reason, self.crawler.stats.get_stats(),
                                      self.max_give_up_share, self.min_give_up_sample)

    def conclude(self, reason: str) -> dict[str, Any]:
        """The run's summary, its finish reason decided; computed once."""
        if self.summary is None:
            final = self.reason(reason)
            self.crawler.stats.set_value("finish_reason", final)
            arguments = getattr(self.crawler.spider, "run_arguments", {})
            self.summary = run_summary(self.crawler.stats.get_stats(), final, arguments,
                                       feed_files(self.crawler.settings))
        return self.summary

    @property
    def stopped_before_closing(self) -> bool:
        """Whether the reactor stopped (Ctrl-C or SIGTERM twice) before the
        engine could close the crawl: the run did not close, never exit 0."""
        return not self.closed_cleanly and self.crawler.engine is not None

    def _engine_stopped(self) -> None:
        self.closed_cleanly = True


def outcome_of(crawler: Crawler) -> RunOutcome:
    outcome = crawler.get_extension(RunOutcome)
    if outcome is None:
        raise RuntimeError("The RunOutcome extension is disabled: the project needs it.")
    return outcome


def kept_for_resume(request: Request) -> Request:
    """*request*, handed back to the scheduler instead of being dropped.

    A crawl that stops (quota, balance, budget) closes its scheduler with
    this request in it, so a JOBDIR crawl asks for it when resumed; without
    JOBDIR it is simply discarded at close. ``dont_filter``: the dupefilter
    has seen it already.
    """
    kept = request.copy()
    kept.dont_filter = True
    return kept


def close_crawl(crawler: Crawler, reason: str) -> None:
    """Ask the engine to close the spider with *reason*, without waiting.

    The first reason wins: the engine ignores later requests to close.
    """
    if not crawler.crawling or crawler.engine is None:
        return
    closing = deferred_from_coro(crawler.engine.close_spider_async(reason=reason))
    closing.addErrback(
        lambda failure: logger.error(
            "Could not close the spider (%(reason)s): %(error)s",
            {"reason": reason, "error": failure.getErrorMessage()},
        )
    )
