"""``xhs-spider``: Scrapy's command line with this project's settings, from any directory.

``scrapy`` finds a project through ``scrapy.cfg`` in the working directory
or above it; after ``pip install .`` the commands are wanted elsewhere too
(cron, a data directory). ``xhs-spider crawl feed`` is ``scrapy crawl feed``
with ``SCRAPY_SETTINGS_MODULE=xhs_spider.settings``, unless that variable
already names a settings module (one of your own that imports ours).
"""

from __future__ import annotations

import os

from scrapy.cmdline import execute

SETTINGS_MODULE = "xhs_spider.settings"


def main() -> None:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", SETTINGS_MODULE)
    execute()
