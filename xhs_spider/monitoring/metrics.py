"""``RunMetrics``: the run's figures as Prometheus metrics, at close.

On when ``XHS_PROMETHEUS_PUSHGATEWAY`` (a Pushgateway's URL) or
``XHS_PROMETHEUS_TEXTFILE`` (a file for node_exporter's textfile collector)
is set, and prometheus-client (the ``monitoring`` extra) is installed. Once
the store has written the run's record, the run's counts, billed calls,
duration and outcome are pushed under the grouping key spider + crawl id
(one series per spider and crawl; the next run of the crawl replaces it),
and written to the file with those two as labels. Both in a thread: the
reactor never waits on the network or the disk.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread

from xhs_spider.config.declarations import (
    PROMETHEUS_JOB,
    PROMETHEUS_PUSHGATEWAY,
    PROMETHEUS_TEXTFILE,
)
from xhs_spider.monitoring.alerts import is_http_url, masked_url
from xhs_spider.monitoring.checks import item_count
from xhs_spider.outcome.extension import outcome_of
from xhs_spider.outcome.reasons import failed
from xhs_spider.pipelines.store import StorePipeline, store_settled

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

PREFIX = "xhs_run_"
#: Each gauge: its name (after the prefix), what it measures, and its value in a summary.
GAUGES: tuple[tuple[str, str, Any], ...] = (
    ("items", "items the run scraped (feed appearances and notes stored)", item_count),
    ("notes_stored", "notes the run stored", lambda s: s["notes"]["stored"]),
    ("notes_new", "notes stored for the first time", lambda s: s["notes"]["new"]),
    ("feed_pages", "feed pages read", lambda s: s["feed_pages"]),
    ("api_requests", "API calls sent", lambda s: s["api"]["requests"]),
    ("billed_calls", "API calls billed", lambda s: s["api"]["billed"]),
    ("give_ups", "API calls given up on after their retries", lambda s: s["api"]["give_ups"]),
    ("duration_seconds", "how long the run took", lambda s: s["duration_seconds"]),
    ("success", "1 if the run ended well (exit status 0), else 0",
     lambda s: 0 if failed(s["finish_reason"]) else 1),
)


class RunMetrics:
    def __init__(self, crawler: Crawler):
        self.gateway = PROMETHEUS_PUSHGATEWAY.get(crawler.settings)
        self.textfile = PROMETHEUS_TEXTFILE.get(crawler.settings)
        if not self.gateway and not self.textfile:
            raise NotConfigured  # off unless asked for: no warning on every crawl
        if importlib.util.find_spec("prometheus_client") is None:
            raise NotConfigured("metrics need prometheus-client: pip install 'xhs-spider[monitoring]'")
        if self.gateway and not is_http_url(self.gateway):
            raise ValueError("Setting XHS_PROMETHEUS_PUSHGATEWAY: expected an http(s) URL")
        self.job = PROMETHEUS_JOB.get(crawler.settings)
        self.crawler = crawler
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def _spider_closed(self, reason: str) -> None:
        await store_settled(self.crawler)
        summary = outcome_of(self.crawler).conclude(reason)
        session = getattr(self.crawler.get_item_pipeline(StorePipeline), "session", None)
        spider = self.crawler.spider.name if self.crawler.spider else ""
        group = {"spider": spider, "crawl_id": getattr(session, "crawl_id", "") or "none"}
        try:
            await run_in_thread(self._publish, summary, group)
        except Exception as exc:  # the run is over: its metrics are lost, the run is not
            logger.error("Could not publish the run's metrics: %(error)s", {"error": str(exc)[:200]})

    def _publish(self, summary: dict[str, Any], group: dict[str, str]) -> None:
        from prometheus_client import push_to_gateway, write_to_textfile

        if self.gateway:
            push_to_gateway(self.gateway, job=self.job, registry=registry(summary, {}),
                            grouping_key=group, timeout=10)
            logger.info("Run metrics pushed to %(gateway)s", {"gateway": masked_url(self.gateway)})
        if self.textfile:
            write_to_textfile(self.textfile, registry(summary, group))
            logger.info("Run metrics written to %(path)s", {"path": self.textfile})


def registry(summary: dict[str, Any], labels: dict[str, str]) -> CollectorRegistry:
    """The run's gauges (labelled with *labels*), and its outcome and end
    time; a registry of their own."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    names = sorted(labels)
    for name, documentation, value in GAUGES:
        gauge = Gauge(PREFIX + name, documentation, names, registry=registry)
        (gauge.labels(**labels) if names else gauge).set(value(summary))
    outcome = Gauge(PREFIX + "outcome", "1, labelled with the run's finish reason",
                    [*names, "finish_reason"], registry=registry)
    outcome.labels(**labels, finish_reason=summary["finish_reason"]).set(1)
    finished = Gauge(PREFIX + "finished_timestamp_seconds", "when the run ended (Unix time)",
                     names, registry=registry)
    (finished.labels(**labels) if names else finished).set(time.time())
    return registry
