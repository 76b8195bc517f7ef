"""The one place that decides how a run ended, and sums it up once.

The engine closes the crawl with a reason (``finished``, or the reason a
component asked for first); a ``finished`` run that did nothing of its job is
judged failed (:mod:`xhs_spider.run.verdict`). Some failures only show while the crawl is
closing, such as the store's last write spilling to disk: a component that
finds one calls :meth:`RunOutcome.fail`, which also closes the crawl if it
still runs. When the spider closes, the outcome is concluded once: the
``finish_reason`` stat, and the summary that the log and the ``runs`` record
both show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals

from xhs_spider.config.declarations import MAX_GIVE_UP_SHARE, MIN_GIVE_UP_SAMPLE
from xhs_spider.feeds import feed_files
from xhs_spider.run.finish import STORE_LOST, close_crawl
from xhs_spider.run.summary import run_summary
from xhs_spider.run.verdict import judged

if TYPE_CHECKING:
    from typing_extensions import Self

    from scrapy.crawler import Crawler

#: When several failures are reported, the worst one names the run.
_SEVERITY = {STORE_LOST: 2}


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

    def conclude(self, reason: str) -> dict[str, Any]:
        """The run's summary, its finish reason decided; computed once."""
        if self.summary is None:
            stats = self.crawler.stats.get_stats()
            final = self.failure or judged(reason, stats, self.max_give_up_share,
                                           self.min_give_up_sample)
            self.crawler.stats.set_value("finish_reason", final)
            arguments = getattr(self.crawler.spider, "run_arguments", {})
            self.summary = run_summary(self.crawler.stats.get_stats(), final, arguments,
                                       feed_files(self.crawler.settings))
        return self.summary

    def _engine_stopped(self) -> None:
        self.closed_cleanly = True


def outcome_of(crawler: Crawler) -> RunOutcome:
    outcome = crawler.get_extension(RunOutcome)
    if outcome is None:
        raise RuntimeError("The RunOutcome extension is disabled: the project needs it.")
    return outcome
