"""``RunMonitors``: the run's checks at close, through spidermon, and its alerts.

On when ``XHS_ALERT_WEBHOOK`` or ``XHS_MONITORS`` is set, and spidermon (the
``monitoring`` extra) is installed. While the crawl runs it counts the
covered fields of each NoteItem; at close, once the store has written the
run's record, it reads the earlier runs of the same spider and arguments,
judges the run (:mod:`xhs_spider.monitoring.checks`) and runs spidermon's
suite with the actions the settings configure: the webhook, the e-mail
(``SPIDERMON_SMTP_HOST``), Slack (``SPIDERMON_SLACK_SENDER_TOKEN``),
Telegram (``SPIDERMON_TELEGRAM_SENDER_TOKEN``). A run that fails a check
sends one alert through each; the suite and its actions run in a thread, so
no alert blocks the reactor, and the close waits for them.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.misc import load_object

from xhs_spider import stats as keys
from xhs_spider.config.declarations import ALERT_WEBHOOK, MONITORS
from xhs_spider.dataset.query import Query
from xhs_spider.dataset.readers import dataset_from_settings, opened
from xhs_spider.items import NoteItem
from xhs_spider.monitoring.alerts import alert_text, masked, masked_url, secrets_of
from xhs_spider.monitoring.checks import (
    COVERED_FIELDS,
    Limits,
    earlier_runs,
    note_fields_filled,
    run_problems,
)
from xhs_spider.outcome.extension import outcome_of
from xhs_spider.outcome.reasons import DRY_RUN
from xhs_spider.pipelines.store import StorePipeline, store_settled

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: spidermon's actions, each on when its own setting is set.
SPIDERMON_ACTIONS = {
    "SPIDERMON_SMTP_HOST": "xhs_spider.monitoring.suite.SmtpEmailAlert",
    "SPIDERMON_SLACK_SENDER_TOKEN":
        "spidermon.contrib.actions.slack.notifiers.SendSlackMessageSpiderFinished",
    "SPIDERMON_TELEGRAM_SENDER_TOKEN":
        "spidermon.contrib.actions.telegram.notifiers.SendTelegramMessageSpiderFinished",
}
WEBHOOK_ACTION = "xhs_spider.monitoring.suite.WebhookAlert"


class RunMonitors:
    def __init__(self, crawler: Crawler):
        self.webhook = ALERT_WEBHOOK.get(crawler.settings)
        if not self.webhook and not MONITORS.get(crawler.settings):
            raise NotConfigured  # off unless asked for: no warning on every crawl
        if importlib.util.find_spec("spidermon") is None:
            raise NotConfigured("the monitors need spidermon: pip install 'xhs-spider[monitoring]'")
        self.crawler = crawler
        self.limits = Limits.from_settings(crawler.settings)
        self.actions = ([WEBHOOK_ACTION] if self.webhook else []) + [
            action for setting, action in SPIDERMON_ACTIONS.items() if crawler.settings.get(setting)]
        crawler.signals.connect(self._item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        logger.info("Run monitors on; alerts to %(to)s", {"to": ", ".join(
            ([masked_url(self.webhook)] if self.webhook else [])
            + [action.rsplit(".", 1)[1] for action in self.actions if action != WEBHOOK_ACTION])
            or "the log only"})

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _item_scraped(self, item: Any) -> None:
        if isinstance(item, NoteItem):
            for name in note_fields_filled(ItemAdapter(item).asdict()):
                self.crawler.stats.inc_value(keys.HEALTH_FIELD_FILLED.format(field=name))

    def coverage(self) -> dict[str, float]:
        stats = self.crawler.stats
        notes = stats.get_value(keys.ITEMS.format(item_type="NoteItem"), 0)
        if not notes:
            return {}
        return {name: stats.get_value(keys.HEALTH_FIELD_FILLED.format(field=name), 0) / notes
                for name in COVERED_FIELDS}

    async def _spider_closed(self, reason: str) -> None:
        if reason == DRY_RUN:
            return  # no call made, nothing to judge
        await store_settled(self.crawler)  # the run's record written: the store is complete
        summary = outcome_of(self.crawler).conclude(reason)
        pipeline = self.crawler.get_item_pipeline(StorePipeline)
        session = getattr(pipeline, "session", None)
        run = {"run_id": self.crawler.stats.get_value(keys.STORE_RUN_ID) or "",
               "crawl_id": getattr(session, "crawl_id", ""),
               "spider": self.crawler.spider.name if self.crawler.spider else "",
               "arguments": summary["arguments"], "finish_reason": summary["finish_reason"],
               "summary": summary}
        runs = await run_in_thread(self._read_runs) if session is not None else []
        mine = next((record for record in runs if record.get("run_id") == run["run_id"]), {})
        run["started_at"] = mine.get("started_at") or ""
        problems = run_problems(run, earlier_runs(run, runs, self.limits.runs),
                                self.limits, self.coverage())
        self.crawler.stats.set_value(keys.HEALTH_FAILED_CHECKS, len(problems))
        health = {"problems": problems, "text": alert_text(
            run["spider"], run["run_id"], run["crawl_id"], list(problems.values()))}
        if problems:
            logger.warning("The run failed %(count)d health check(s): %(checks)s",
                           {"count": len(problems), "checks": ", ".join(problems)})
        try:
            await run_in_thread(self._run_suite, health)
        except Exception as exc:  # an action's own errors spidermon logs; this is the suite's
            logger.error("The run monitors could not run: %(error)s",
                         {"error": masked(str(exc), secrets_of(self.crawler.settings))[:200]})

    def _read_runs(self) -> list[dict[str, Any]]:
        try:
            dataset = dataset_from_settings(self.crawler.settings)
            with opened(dataset):
                return list(dataset.records(Query("runs")))
        except Exception as exc:  # judged without the earlier runs, not at all otherwise
            logger.warning("Could not read the earlier runs: %(error)s", {"error": str(exc)[:200]})
            return []

    def _run_suite(self, health: dict[str, Any]) -> None:
        from xhs_spider.monitoring.suite import LoggedRunner, RunChecksSuite

        suite = RunChecksSuite(crawler=self.crawler,
                               monitors_failed_actions=[load_object(a) for a in self.actions])
        LoggedRunner(spider=self.crawler.spider).run(
            suite, stats=self.crawler.stats.get_stats(), crawler=self.crawler,
            spider=self.crawler.spider, health=health)
