"""Run health at close: spidermon's monitors, the webhook and e-mail alerts, Prometheus.

In-process crawls against the sandbox, with a local webhook sink (an HTTP
server in this process) and a local SMTP server (aiosmtpd): a failed run
and a run whose item count halves each send exactly one alert through each,
naming the finish reason or the drop, with no secret in it; a good run sends
none.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, Session
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from sandbox import SandboxProcess
from tests.conftest import ADDON, TOKEN, InProcessCrawl, feed_note_ids, run_scrapy
from xhs_spider import stats as keys
from xhs_spider.monitoring.extension import RunMonitors
from xhs_spider.monitoring.metrics import RunMetrics
from xhs_spider.spiders.feed import FeedSpider
from xhs_spider.spiders.note import NoteSpider

SMTP_PASSWORD = "smtp-secret-Hq4Vn8Wd"
WEBHOOK_KEY = "T000/B000/hook-secret-Jx5Lp2"


class Sink:
    """What the alerts delivered: webhook bodies and e-mails."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.mails: list[str] = []
        self.logins: list[str] = []
        self.pushes: list[dict[str, Any]] = []
        self.url = ""  # the webhook's server (a Pushgateway too)
        self.settings: dict[str, str] = {}  # the monitors' settings, alerting to it

    @property
    def everything(self) -> str:
        bodies = [post["body"] for post in self.posts]  # the path is the webhook's own
        return json.dumps(bodies, ensure_ascii=False) + "\n".join(self.mails)


@pytest.fixture
def sink() -> Iterator[Sink]:
    found = Sink()

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            found.posts.append({"path": self.path, "body": json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def do_PUT(self) -> None:  # a Pushgateway's
            body = self.rfile.read(int(self.headers["Content-Length"]))
            found.pushes.append({"path": self.path, "body": body.decode("utf-8")})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
            message = message_from_bytes(envelope.original_content or b"")
            parts = [message["Subject"] or ""] + [
                bytes(part.get_payload(decode=True)).decode("utf-8")
                for part in message.walk() if part.get_content_type() == "text/plain"]
            found.mails.append("\n".join(parts))
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> AuthResult:
        found.logins.append(auth.login.decode())
        return AuthResult(success=auth.password.decode() == SMTP_PASSWORD)

    http = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port, auth_require_tls=False,
                      authenticator=authenticate)
    smtp.start()
    found.url = f"http://127.0.0.1:{http.server_address[1]}"
    found.settings = {
        "XHS_ALERT_WEBHOOK": f"http://127.0.0.1:{http.server_address[1]}/services/{WEBHOOK_KEY}",
        "SPIDERMON_SMTP_HOST": "127.0.0.1", "SPIDERMON_SMTP_PORT": str(smtp_port),
        "SPIDERMON_SMTP_USER": "alerts", "SPIDERMON_SMTP_PASSWORD": SMTP_PASSWORD,
        "SPIDERMON_EMAIL_SENDER": "crawler@example.org", "SPIDERMON_EMAIL_TO": "ops@example.org",
    }
    try:
        yield found
    finally:
        smtp.stop()
        http.shutdown()
        http.server_close()


def assert_no_secret(sink: Sink, *texts: str) -> None:
    for text in (sink.everything, *texts):
        for secret in (TOKEN, SMTP_PASSWORD, WEBHOOK_KEY, "hook-secret"):
            assert secret not in text


def test_off_unless_a_setting_turns_them_on():
    with pytest.raises(NotConfigured):
        RunMonitors.from_crawler(get_crawler(Spider, ADDON))
    with pytest.raises(NotConfigured):
        RunMetrics.from_crawler(get_crawler(Spider, ADDON))
    monitors = get_crawler(Spider, {**ADDON, "XHS_MONITORS": "true"}).get_extension(RunMonitors)
    assert monitors is not None and monitors.actions == []


def test_a_webhook_that_is_no_url_is_refused_without_showing_it():
    with pytest.raises(ValueError, match="XHS_ALERT_WEBHOOK") as refused:
        get_crawler(Spider, {**ADDON, "XHS_ALERT_WEBHOOK": "hooks.example/secret-part"})
    assert "secret-part" not in str(refused.value)


@pytest.mark.integration
def test_a_crawl_with_a_bad_webhook_stops_in_one_line_before_any_call(
    api: SandboxProcess, tmp_path: Path
) -> None:
    done = run_scrapy(["crawl", "feed", "-a", "oid=homefeed_food_v3", "-s",
                       f"JUSTONEAPI_BASE_URL={api.url}", "-s",
                       f"XHS_STORE_URI=sqlite:///{tmp_path / 'xhs.sqlite3'}"],
                      env={"JUSTONEAPI_TOKEN": TOKEN, "XHS_ALERT_WEBHOOK": "hooks.example/secret-part"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: Setting XHS_ALERT_WEBHOOK: expected an http(s) URL (not shown: a secret).")
    assert "secret-part" not in done.stdout + done.stderr
    assert api.stats()["calls"] == 0


@deferred_f_from_coro_f
async def test_a_good_run_alerts_nobody_and_a_failed_one_once(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, sink: Sink
) -> None:
    settings = sink.settings
    good = await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="1", settings=settings)
    assert good.finish_reason == "finished"
    assert good.stats[keys.HEALTH_FAILED_CHECKS] == 0
    assert good.stats[keys.HEALTH_FIELD_FILLED.format(field="user")] == len(good.notes) > 0
    assert sink.posts == [] and sink.mails == []
    assert "Run monitors on; alerts to http://127.0.0.1/***, SmtpEmailAlert" in good.log

    api.configure(quota=api.stats()["billed"] + 3)  # then code 303, daily quota exceeded
    failed = await in_process_crawl(FeedSpider, oid="homefeed_fashion_v3", pages="2",
                                    settings=settings)

    assert failed.finish_reason == "justoneapi_daily_quota_exceeded"
    assert failed.stats[keys.HEALTH_FAILED_CHECKS] >= 1
    assert len(sink.posts) == 1 and len(sink.mails) == 1
    assert sink.posts[0]["path"] == f"/services/{WEBHOOK_KEY}"
    text = sink.posts[0]["body"]["text"]
    assert "failed its checks" in text and "finish reason justoneapi_daily_quota_exceeded" in text
    assert "finish reason justoneapi_daily_quota_exceeded" in sink.mails[0]
    assert sink.logins == ["alerts"]
    assert_no_secret(sink, good.log, failed.log)


@deferred_f_from_coro_f
async def test_an_item_count_halved_against_three_runs_alerts_once(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, sink: Sink
) -> None:
    ids = ",".join(feed_note_ids(api, "homefeed_food_v3", 1))
    settings = {**sink.settings, "XHS_DETAIL_TTL": "0", "XHS_HEALTH_RUNS": "3",
                "XHS_HEALTH_MAX_DROP": "0.3"}
    earlier = [await in_process_crawl(NoteSpider, ids=ids, settings=settings) for _ in range(3)]
    assert [run.finish_reason for run in earlier] == ["finished"] * 3
    assert sink.posts == [] and sink.mails == []

    api.configure(note_codes={"400": 0.5})  # half the notes refused: the same job, half the notes
    halved = await in_process_crawl(NoteSpider, ids=ids, settings=settings)

    assert halved.finish_reason == "finished"
    assert 0 < len(halved.notes) <= 0.7 * len(earlier[0].notes)
    assert len(sink.posts) == 1 and len(sink.mails) == 1
    text = sink.posts[0]["body"]["text"]
    assert f"{len(halved.notes)} items, " in text
    assert "below the average of %d of the last 3 runs" % len(earlier[0].notes) in text
    assert "items, " in sink.mails[0]
    assert_no_secret(sink, halved.log)


@deferred_f_from_coro_f
async def test_the_textfile_holds_the_runs_series(
    in_process_crawl: InProcessCrawl, tmp_path: Path
) -> None:
    path = tmp_path / "metrics" / "xhs.prom"
    path.parent.mkdir()
    result = await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="1",
                                    settings={"XHS_PROMETHEUS_TEXTFILE": str(path)})

    series = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
              for line in path.read_text("utf-8").splitlines() if not line.startswith("#")}
    run_id = result.stats[keys.STORE_RUN_ID]
    labels = f'crawl_id="{run_id}",spider="feed"'
    assert series[f"xhs_run_billed_calls{{{labels}}}"] == result.stats[keys.BILLED]
    assert series[f"xhs_run_notes_stored{{{labels}}}"] == len(result.notes)
    assert series[f"xhs_run_items{{{labels}}}"] == len(result.notes) + len(result.appearances)
    assert series[f"xhs_run_success{{{labels}}}"] == 1
    assert series[f'xhs_run_outcome{{crawl_id="{run_id}",finish_reason="finished",spider="feed"}}'] == 1
    assert series[f"xhs_run_duration_seconds{{{labels}}}"] > 0
    assert f"Run metrics written to {path}" in result.log


@deferred_f_from_coro_f
async def test_the_pushgateway_gets_one_group_per_spider_and_crawl(
    in_process_crawl: InProcessCrawl, sink: Sink
) -> None:
    settings = {"XHS_PROMETHEUS_PUSHGATEWAY": sink.url, "XHS_CRAWL_ID": "ignored-without-redis"}
    result = await in_process_crawl(FeedSpider, oid="homefeed_food_v3", pages="1", settings=settings)

    run_id = result.stats[keys.STORE_RUN_ID]
    assert [push["path"] for push in sink.pushes] == [
        f"/metrics/job/xhs_spider/crawl_id/{run_id}/spider/feed"]
    body = sink.pushes[0]["body"]
    assert f"xhs_run_billed_calls {float(result.stats[keys.BILLED])}" in body
    assert 'xhs_run_outcome{finish_reason="finished"} 1.0' in body
    assert "Run metrics pushed to http://127.0.0.1/***" in result.log
