"""All the settings checked at once, before a crawl starts.

``scrapy crawl`` asks :func:`first_problem` before anything starts, so a bad
value is one line on the terminal, not a traceback or a silently disabled
component. Each value is checked by its declaration, the token and the
store URI also here. ``scrapy settings --get NAME`` asks
:func:`setting_problem` of the one setting it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xhs_spider.config.declarations import DECLARED, STORE_URI, TOKEN
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def first_problem(settings: BaseSettings) -> str | None:
    """The first unusable setting, as one line, or ``None``."""
    for name in DECLARED:
        problem = setting_problem(settings, name)
        if problem:
            return problem
    return None


def setting_problem(settings: BaseSettings, name: str) -> str | None:
    """Why a crawl would refuse the setting *name*, as one line, or ``None``
    (also for a setting the project does not declare)."""
    declared = DECLARED.get(name)
    if declared is None:
        return None
    try:
        declared.get(settings)
    except ValueError as exc:
        return str(exc)
    if name == TOKEN.name:
        return token_problem(settings)
    if name == STORE_URI.name:
        try:
            store_from_settings(settings)
        except ValueError as exc:
            return str(exc)
    return None


def token_problem(settings: BaseSettings) -> str | None:
    """A token that cannot be right, said without showing it (an unset token
    is the caller's to report: a crawl needs one, other commands do not)."""
    given = str(settings.get(TOKEN.name) or "")
    if given and not given.strip():
        return (f"{TOKEN.name} is blank (white space only): set it to your Just One API "
                "token.")
    if any(char.isspace() or not char.isprintable() for char in given.strip()):
        return (f"{TOKEN.name} holds white space or control characters inside it; "
                "copy the token again, as one word.")
    return None
