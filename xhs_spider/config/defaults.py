"""Scrapy's settings the project changes, and the components it wires in.

:class:`xhs_spider.addon.XhsSpiderAddon` applies these, and the defaults of
:mod:`xhs_spider.config.declarations`, at ``addon`` priority, so
``settings.py``, ``-s`` and Scrapyd's settings override them.
"""

from __future__ import annotations

SCRAPY_SETTINGS: dict[str, object] = {
    # One paid host: a small, steady concurrency beats Scrapy's template
    # defaults (16 requests), which would mostly buy 302 rate-limit answers.
    # CONCURRENT_REQUESTS_PER_DOMAIN and AUTOTHROTTLE_TARGET_CONCURRENCY
    # follow it unless set (see CONCURRENCY_FOLLOWERS).
    "CONCURRENT_REQUESTS": 8,
    "DOWNLOAD_DELAY": 0.0,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.5,
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
    # The vendor recommends at least 60 s.
    "DOWNLOAD_TIMEOUT": 60,
    # Network errors only. HTTP answers of the API are judged by their body
    # code in BusinessCodeMiddleware; an answer it lets through is paid for
    # and must never be asked for again because of its HTTP status.
    "RETRY_TIMES": 5,
    "RETRY_HTTP_CODES": [],
    "ROBOTSTXT_OBEY": False,
    # JOBDIR: a queue that a kill cannot leave unreadable (each push is a
    # committed SQLite row); feed pages are derived from the store instead.
    "SCHEDULER_DISK_QUEUE": "xhs_spider.queues.DetailRequestQueue",
    "SCHEDULER_START_DISK_QUEUE": "xhs_spider.queues.StartRequestQueue",
    "SCHEDULER_PRIORITY_QUEUE": "xhs_spider.queues.RecoveringPriorityQueue",
    "COOKIES_ENABLED": False,
    # Both consoles run code inside the crawl, where the settings hold the
    # API token; a user who needs one turns it on knowingly.
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "FEED_EXPORT_ENCODING": "utf-8",
    # Only with HTTPCACHE_ENABLED: a failure is never served to its retries.
    "HTTPCACHE_POLICY": "xhs_spider.httpcache.BilledAnswersOnlyPolicy",
    # CSV for spreadsheets: BOM, dotted columns in schema order, lists joined.
    "FEED_EXPORTERS": {"csv": "xhs_spider.exporters.SpreadsheetCsvItemExporter"},
    # DEBUG writes a line per response and a pretty-printed item per item
    # (thousands of lines a crawl, a tenth of its CPU); -s LOG_LEVEL=DEBUG
    # turns them back on when tracing one request.
    "LOG_LEVEL": "INFO",
    # Scrapy re-reads each generator callback's source to warn about a
    # `return value` in it; our callbacks are type-checked and return None,
    # so the check buys nothing for its cost on every response.
    "WARN_ON_GENERATOR_RETURN_VALUE": False,
}

#: Settings that follow CONCURRENT_REQUESTS unless set, with the factor they
#: take of it: the API is one host, so its share is all of it; AutoThrottle
#: aims at twice as many calls in flight, so that CONCURRENT_REQUESTS, not
#: AutoThrottle's spacing, bounds a latency-bound crawl (the pace of calls is
#: RateLimitMiddleware's job).
CONCURRENCY_FOLLOWERS = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_TARGET_CONCURRENCY": 2}

DOWNLOADER_MIDDLEWARES: dict[str, int] = {
    # Once a run, under this run's lease: a queued request may predate both.
    "xhs_spider.middlewares.claims.ClaimMiddleware": 584,
    # After HttpCompressionMiddleware (590) has decoded the body, before
    # RetryMiddleware (550) could retry an HTTP 5xx the API answered.
    "xhs_spider.middlewares.business_codes.BusinessCodeMiddleware": 585,
    # Inside BusinessCodeMiddleware: a request it refuses never waits here.
    # One budget for all workers of a shared crawl (REDIS_URL, XHS_CRAWL_ID).
    "xhs_spider.middlewares.budget.BillingBudgetMiddleware": 586,
    # Paces calls: a request waits here, once counted by the budget, and a
    # 302 is seen here before BusinessCodeMiddleware turns it into a retry.
    "xhs_spider.middlewares.rate_limit.RateLimitMiddleware": 587,
    # Sees every answer before BusinessCodeMiddleware retries it, after
    # HttpCompressionMiddleware (590) decoded it; sets the path in use.
    "xhs_spider.middlewares.endpoints.EndpointMiddleware": 589,
    # Innermost, so only the downloader ever sees the token.
    "xhs_spider.middlewares.token.TokenMiddleware": 990,
}

ITEM_PIPELINES: dict[str, int] = {
    "xhs_spider.pipelines.validation.SchemaValidationPipeline": 100,
    "xhs_spider.pipelines.dedup.DedupPipeline": 200,
    "xhs_spider.pipelines.store.StorePipeline": 300,
}

EXTENSIONS: dict[str, int | None] = {
    "xhs_spider.extensions.log_masking.TokenLogMasking": 0,
    "xhs_spider.extensions.item_counts.ItemCounts": 100,
    "xhs_spider.extensions.freshness.Freshness": 100,
    # Before the readers of the outcome below, whatever the handler order.
    "xhs_spider.outcome.extension.RunOutcome": 800,
    "xhs_spider.extensions.stats_file.StatsFile": 900,
    "xhs_spider.extensions.run_summary.RunSummary": 900,
    "xhs_spider.extensions.progress.ProgressLog": 900,
    # Run health (the monitoring extra): off unless XHS_ALERT_WEBHOOK, XHS_MONITORS or an
    # XHS_PROMETHEUS_* setting turns them on; they read the outcome and wait for the store.
    "xhs_spider.monitoring.extension.RunMonitors": 900,
    "xhs_spider.monitoring.metrics.RunMetrics": 900,
    # ProgressLog says more than pages and items per minute.
    "scrapy.extensions.logstats.LogStats": None,
}
