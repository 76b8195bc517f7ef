"""The spidermon suite run at close, and the project's own two actions.

Imported only by :class:`~xhs_spider.monitoring.extension.RunMonitors`, once
it has found spidermon. The monitors judge nothing themselves: each reports
one check of :mod:`xhs_spider.monitoring.checks`, computed before the suite
runs and handed to it as ``data.health``. spidermon's runner calls the
actions in the thread the extension gives it, so both may block.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from spidermon import Monitor, MonitorSuite
from spidermon.contrib.actions.email import SendEmail
from spidermon.contrib.scrapy.runners import SpiderMonitorResult, SpiderMonitorRunner
from spidermon.core.actions import Action

from xhs_spider.config.declarations import ALERT_WEBHOOK
from xhs_spider.monitoring.alerts import masked, masked_url, post_webhook, secrets_of, send_mail
from xhs_spider.monitoring.checks import (
    API_FAILURES,
    BILLED_PER_NOTE,
    FIELD_COVERAGE,
    FINISH_REASON,
    ITEM_COUNT,
)

if TYPE_CHECKING:
    from email.message import Message

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DEFAULT_SUBJECT = "xhs-spider: a run failed its checks"


class LoggedResult(SpiderMonitorResult):
    """spidermon's result lines, through this module's logger (Scrapy 2.19
    deprecates ``Spider.log``, which spidermon's own result calls)."""

    def log(self, msg: object, level: int = logging.DEBUG) -> None:
        logger.log(level, "[Spidermon] %(message)s", {"message": msg})


class LoggedRunner(SpiderMonitorRunner):
    def create_result(self) -> LoggedResult:
        return LoggedResult(self.spider)


class RunChecksMonitor(Monitor):
    """Each test is one check of the run (docs/monitoring.md)."""

    def _passes(self, check: str) -> None:
        problem = self.data.health["problems"].get(check)
        if problem:
            self.fail(problem)

    def test_finish_reason(self) -> None:
        self._passes(FINISH_REASON)

    def test_item_count(self) -> None:
        self._passes(ITEM_COUNT)

    def test_field_coverage(self) -> None:
        self._passes(FIELD_COVERAGE)

    def test_api_failures(self) -> None:
        self._passes(API_FAILURES)

    def test_billed_per_note(self) -> None:
        self._passes(BILLED_PER_NOTE)


class RunChecksSuite(MonitorSuite):
    monitors = [RunChecksMonitor]


class WebhookAlert(Action):
    """One JSON POST ``{"text": …}`` to ``XHS_ALERT_WEBHOOK``."""

    def __init__(self, url: str, secrets: list[str]):
        super().__init__()
        self.url = url
        self.secrets = secrets

    @classmethod
    def from_crawler_kwargs(cls, crawler: Crawler) -> dict[str, Any]:
        return {"url": ALERT_WEBHOOK.get(crawler.settings), "secrets": secrets_of(crawler.settings)}

    def run_action(self) -> None:
        text = masked(self.data.health["text"], self.secrets)
        try:
            post_webhook(self.url, text)
        except (OSError, ValueError) as exc:
            # Raised anew, masked and without its chain: spidermon logs the traceback.
            raise RuntimeError("the alert could not be posted to %s: %s" % (
                masked_url(self.url), masked(str(exc), self.secrets)[:200])) from None


class SmtpEmailAlert(SendEmail):
    """spidermon's e-mail (its ``SPIDERMON_EMAIL_*`` and ``SPIDERMON_SMTP_*``
    settings), the alert's text as its body, sent with :mod:`smtplib`."""

    body_html_template = None

    def __init__(self, *, smtp: dict[str, Any], secrets: list[str], **kwargs: Any):
        kwargs["subject"] = kwargs.get("subject") or DEFAULT_SUBJECT
        kwargs["body_text"] = kwargs.get("body_text") or "-"  # replaced by the alert
        super().__init__(**kwargs)
        self.smtp = smtp
        self.secrets = secrets

    @classmethod
    def from_crawler_kwargs(cls, crawler: Crawler) -> dict[str, Any]:
        settings = crawler.settings
        return {
            **super().from_crawler_kwargs(crawler),
            "smtp": {
                "host": settings.get("SPIDERMON_SMTP_HOST"),
                "port": settings.getint("SPIDERMON_SMTP_PORT") or 25,
                "user": settings.get("SPIDERMON_SMTP_USER"),
                "password": settings.get("SPIDERMON_SMTP_PASSWORD"),
                "tls": settings.getbool("SPIDERMON_SMTP_ENFORCE_TLS"),
                "ssl": settings.getbool("SPIDERMON_SMTP_ENFORCE_SSL"),
            },
            "secrets": secrets_of(settings),
        }

    def get_subject(self) -> str:
        return masked(super().get_subject(), self.secrets)

    def get_body_text(self) -> str:
        return masked(self.data.health["text"], self.secrets)

    def get_body_html(self) -> str:
        return ""

    def send_message(self, message: Message, **kwargs: Any) -> None:
        try:
            send_mail(message, **self.smtp)
        except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
            raise RuntimeError("the alert could not be e-mailed through %s: %s" % (
                self.smtp["host"], masked(str(exc), self.secrets)[:200])) from None
