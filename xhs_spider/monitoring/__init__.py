"""Run health, in one place: the checks a run must pass, and who hears of a failure.

``checks.py`` judges a run from its summary (and the store's earlier runs of
the same spider and arguments): its finish reason, its item count against
their average, the field coverage of its notes, its give-ups and 302s, its
billed calls per stored note. The same functions serve the monitors at the
close of a crawl (``extension.py`` and ``suite.py``, through spidermon, with
``alerts.py``: the ``XHS_ALERT_WEBHOOK`` POST and the e-mail) and
``scrapy health`` (the dead-man check, ``commands/health.py``).
``metrics.py`` writes the run's figures for Prometheus.

spidermon and prometheus-client come with the ``monitoring`` extra; the
modules that need them import them only once a setting asks for them.
"""
