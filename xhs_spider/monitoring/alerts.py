"""What a failed run's alert says, and how it leaves: the webhook POST, the e-mail.

The text names the spider, the run, its crawl and one line per failed check;
never a setting's value. Every secret the crawl knows (the API token, the
webhook's URL, spidermon's tokens and SMTP password) is masked in it once
more before it leaves, and in any error about sending it. The senders block:
they run in a thread (``extension.py`` runs spidermon's actions there).
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from xhs_spider.api.masking import mask_echo
from xhs_spider.config.declarations import ALERT_WEBHOOK, TOKEN

if TYPE_CHECKING:
    from email.message import Message

    from scrapy.settings import BaseSettings

#: spidermon's settings that hold secrets (its actions read them).
SPIDERMON_SECRETS = (
    "SPIDERMON_SMTP_PASSWORD", "SPIDERMON_SLACK_SENDER_TOKEN", "SPIDERMON_TELEGRAM_SENDER_TOKEN",
    "SPIDERMON_SENTRY_DSN", "SPIDERMON_DISCORD_WEBHOOK_URL", "SPIDERMON_AWS_SECRET_ACCESS_KEY",
)
MASK = "***"
TIMEOUT = 10.0


def secrets_of(settings: BaseSettings) -> list[str]:
    """Every secret value the settings hold, longest first (a secret
    holding another is masked whole)."""
    values = [TOKEN.get(settings), ALERT_WEBHOOK.get(settings),
              *(str(settings.get(name) or "") for name in SPIDERMON_SECRETS)]
    return sorted({value for value in values if value}, key=len, reverse=True)


def masked(text: str, secrets: list[str]) -> str:
    """*text* with each of *secrets* (and any ``token=…``) masked."""
    for secret in secrets:
        text = mask_echo(text, secret)
    return mask_echo(text, None)


def masked_url(url: str) -> str:
    """A URL as the log may name it: its scheme and host, the rest masked
    (an incoming webhook's path is its key)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/{MASK}"


def alert_text(spider: str, run_id: str, crawl_id: str, problems: list[str]) -> str:
    """The one message of a failed run: a head line, then a line a problem."""
    head = f"xhs-spider: {spider} run {run_id or '?'} (crawl {crawl_id or '?'}) failed its checks"
    return "\n".join([head, *(f"- {line}" for line in problems)])


def post_webhook(url: str, text: str) -> int:
    """POST ``{"text": text}`` as JSON to *url*; the HTTP status (blocks)."""
    request = urllib.request.Request(
        url, data=json.dumps({"text": text}, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310 (http(s) checked)
        return int(answer.status)


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def send_mail(message: Message, *, host: str, port: int, user: str | None,
              password: str | None, tls: bool, ssl: bool) -> None:
    """Send *message* over SMTP (blocks): SSL from the start, or STARTTLS,
    then a login when a user is set."""
    smtp_class = smtplib.SMTP_SSL if ssl else smtplib.SMTP
    with smtp_class(host, port, timeout=TIMEOUT) as smtp:
        if tls and not ssl:
            smtp.starttls()
        if user and password:
            smtp.login(user, password)
        smtp.send_message(message)
