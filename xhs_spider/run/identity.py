"""Names of a run (one process) and of a crawl (what a resumed run goes on with).

A crawl paused or killed with ``-s JOBDIR=…`` and started again is one crawl
in several runs: its id is kept in the JOBDIR, so the store can tell which
feed pages and note leases are its own. The workers of a crawl shared through
Redis (``REDIS_URL``) are one crawl too, named by ``XHS_CRAWL_ID``. Otherwise
each run is a crawl.

``XHS_CRAWL_ID`` may be a template: ``{date}`` (UTC ``YYYY-MM-DD``) and
``{hour}`` (``YYYY-MM-DDTHH``) are expanded (:func:`expand_crawl_id`), so a
scheduled job (cron, Scrapyd) with one fixed setting starts a new crawl each
day or hour while the workers started within it join the same one.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

CRAWL_ID_FILE = "xhs-crawl-id"
#: Placeholders of ``XHS_CRAWL_ID``, and their UTC formats.
CRAWL_ID_TEMPLATES = {"{date}": "%Y-%m-%d", "{hour}": "%Y-%m-%dT%H"}
#: Each template as first expanded in this process: every component (and the
#: check before the crawl) names one crawl, even one started at 10:59:59.9.
_expanded: dict[str, str] = {}


def expand_crawl_id(template: str, now: datetime | None = None) -> str:
    """*template* with its placeholders expanded at *now* (UTC; by default
    when this process first expanded it)."""
    if not any(placeholder in template for placeholder in CRAWL_ID_TEMPLATES):
        return template
    if now is None and template in _expanded:
        return _expanded[template]
    moment = now or datetime.now(tz=timezone.utc)
    expanded = template
    for placeholder, form in CRAWL_ID_TEMPLATES.items():
        expanded = expanded.replace(placeholder, moment.strftime(form))
    if now is None:
        _expanded[template] = expanded
    return expanded


def new_run_id(spider_name: str) -> str:
    started = datetime.now(tz=timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{spider_name}-{started}Z-{uuid.uuid4().hex[:6]}"


def crawl_id(jobdir: str | None, run_id: str, shared: str | None = None) -> str:
    """*shared* (``XHS_CRAWL_ID`` of a crawl shared through Redis), else the
    JOBDIR's crawl id (made on its first run), else *run_id*."""
    if shared:
        return shared
    if not jobdir:
        return run_id
    path = Path(jobdir) / CRAWL_ID_FILE
    try:
        return path.read_text(encoding="utf-8").strip() or run_id
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(run_id)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
    return run_id
