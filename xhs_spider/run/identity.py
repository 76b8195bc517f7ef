"""Names of a run (one process) and of a crawl (what a resumed run goes on with).

A crawl paused or killed with ``-s JOBDIR=…`` and started again is one crawl
in several runs: its id is kept in the JOBDIR, so the store can tell which
feed pages and note leases are its own. The workers of a crawl shared through
Redis (``REDIS_URL``) are one crawl too, named by ``XHS_CRAWL_ID``. Otherwise
each run is a crawl.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from xhs_spider.api.normalize import now_iso

CRAWL_ID_FILE = "xhs-crawl-id"


def new_run_id(spider_name: str) -> str:
    started = now_iso()[:19].replace("-", "").replace(":", "")
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
