"""``scrapy settings --get NAME``: a setting as a crawl will use it.

Scrapy's own command prints ``settings.py`` and ``-s`` only, without the
add-ons that a crawl applies when it starts: 16 for ``CONCURRENT_REQUESTS``
where our add-on makes it 8, ``None`` for every setting of ours. This one
applies them first (see :mod:`xhs_spider.config.effective`), with the
environment overrides, and shows each project setting as the crawl reads it:
typed by its declaration (``XHS_DETAIL_TTL=60`` from the environment is the
number 60), and ``XHS_STORE_URI`` as the store a crawl opens (unset: the
default SQLite file, its path made absolute). A value a crawl would refuse
is refused here too, with the crawl's own check (:mod:`xhs_spider.commands.checks`):
one line, exit status 2. The API token is never printed: a set token shows
as ``***``, and so does the password of every URL-valued setting
(``XHS_STORE_URI``, ``REDIS_URL``, ``JUSTONEAPI_BASE_URL``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.commands.settings import Command as ScrapySettingsCommand

from xhs_spider.commands.checks import setting_problem
from xhs_spider.commands.common import fail
from xhs_spider.config.declarations import BASE_URL, DECLARED, REDIS_URL, STORE_URI, TOKEN
from xhs_spider.config.effective import crawl_settings
from xhs_spider.store.mongo import masked_uri
from xhs_spider.store.sqlite import SqliteNoteStore
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import BaseSettings

MASKED = "***"
#: Settings holding a URL, which may carry a password (user:password@host, ?password=).
URL_SETTINGS = (STORE_URI.name, REDIS_URL.name, BASE_URL.name)
#: The options of Scrapy's command that each name one setting.
GET_OPTIONS = ("get", "getbool", "getint", "getfloat", "getlist")


class Command(ScrapySettingsCommand):
    def short_desc(self) -> str:
        return "Get settings values as a crawl uses them (add-on defaults applied)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        settings = crawl_settings(self.settings)
        for name in filter(None, (getattr(opts, option) for option in GET_OPTIONS)):
            problem = setting_problem(settings, name)
            if problem:
                fail(self, problem)
                return
            if name in DECLARED:
                settings.set(name, shown_value(settings, name), priority=settings.maxpriority())
        self.settings = settings
        super().run(args, opts)


def shown_value(settings: BaseSettings, name: str) -> Any:
    """The declared setting *name* as a crawl reads it, its secrets masked."""
    if name == STORE_URI.name:
        store = store_from_settings(settings)
        if isinstance(store, SqliteNoteStore):
            return f"sqlite://{store.path.absolute()}"
        return store.display_uri  # its password masked
    value = DECLARED[name].get(settings)
    if name == TOKEN.name and value:
        return MASKED
    if name in URL_SETTINGS and value:
        return masked_uri(str(value))
    return value
