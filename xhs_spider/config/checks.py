"""All the settings checked at once, before a crawl starts.

``scrapy crawl`` asks :func:`first_problem` before anything starts, so a bad
value is one line on the terminal, not a traceback or a silently disabled
component. Each value is checked by its declaration, the token and the
store URI also here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xhs_spider.config.declarations import DECLARED, TOKEN
from xhs_spider.store.uri import store_from_settings

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def first_problem(settings: BaseSettings) -> str | None:
    """The first unusable setting, as one line, or ``None``."""
    problem = token_problem(settings)
    if problem:
        return problem
    for declared in DECLARED.values():
        try:
            declared.get(settings)
        except ValueError as exc:
            return str(exc)
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
