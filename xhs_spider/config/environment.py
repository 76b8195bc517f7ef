"""Environment variables that override the project's settings of the same name."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from xhs_spider.config.declarations import DECLARED

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: Above settings.py and spider settings, below ``-s`` on the command line.
ENVIRONMENT_PRIORITY = 35


def apply_environment(settings: BaseSettings) -> None:
    for name in DECLARED:
        value = os.environ.get(name)
        if value:
            settings.set(name, value, priority=ENVIRONMENT_PRIORITY)
