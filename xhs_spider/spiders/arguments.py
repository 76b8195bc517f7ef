"""Spider arguments (``-a name=value``): parsing them, as they always arrive as
text, and describing them for ``scrapy crawl SPIDER -h``."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

from xhs_spider.api.sources import did_you_mean

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from xhs_spider.config.declarations import Setting

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
#: Spiders that yield more than one item class, and the ``-a`` argument that,
#: when false, leaves them one (``feed``: notes and feed appearances).
MIXED_ITEMS = {"feed": "details"}
#: The argument every spider takes besides its own: ``-a dry_run=true`` says
#: how many billed calls the run would make at most, and makes none
#: (:mod:`xhs_spider.spiders.dry_run`).
DRY_RUN_ARGUMENT = "dry_run"
DRY_RUN_HELP = ("Every spider also takes -a dry_run=true: it says how many billed calls the run "
                "would make at most, from the store and the arguments, and makes none.")


class SpiderArgumentError(ValueError):
    """A spider argument the user must correct; its message says how."""


def unknown_argument(name: str, value: object, spider: str, accepted: list[str]) -> SpiderArgumentError:
    """The refusal of ``-a name=value``, which *spider* does not take."""
    return SpiderArgumentError(
        f"Unknown argument -a {name}={value!r}.{did_you_mean(name, accepted)} "
        f"The {spider} spider takes {', '.join(accepted)}."
    )


def parse_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SpiderArgumentError(f"-a {name}={value!r}: expected true or false.")


def mixes_item_types(spider_name: str, spargs: dict[str, str]) -> bool:
    """Whether the crawl of *spider_name* with *spargs* yields two item types
    (a wrong value of the argument is the spider's own check to report)."""
    argument = MIXED_ITEMS.get(spider_name)
    if argument is None:
        return False
    try:
        return parse_bool(argument, spargs.get(argument, True))
    except SpiderArgumentError:
        return False


def parse_int(name: str, value: object, *, minimum: int, maximum: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not minimum <= number <= maximum:
        raise SpiderArgumentError(
            f"-a {name}={value!r}: expected a whole number from {minimum} to {maximum}."
        )
    return number


@dataclass(frozen=True)
class About:
    """What a spider argument is for, attached to its parameter of
    ``parse_arguments`` with ``Annotated``: the parameter stays the one
    declaration of the argument (name, default, meaning) that the spider
    checks and ``scrapy crawl SPIDER -h`` lists. *default_from*: the setting
    whose value applies when the argument is not given."""

    text: str
    default_from: Setting[Any] | None = None


#: The ``-a`` arguments several spiders take, declared once: a spider's
#: parameter ``refresh: Refresh = False`` is the whole declaration.
Refresh = Annotated[str | bool, About("fetch details even of notes fetched within XHS_DETAIL_TTL")]
Comments = Annotated[str | int, About(
    "also page the comments of every note fetched, up to N a note (max_replies 20, sort latest; 0: none)"
)]


def argument_lines(parse_arguments: Callable[..., None], settings: BaseSettings,
                   width: int = 79) -> list[str]:
    """Each argument as ``name  meaning (default: ...)``, wrapped to *width*."""
    hints = get_type_hints(parse_arguments, include_extras=True)
    parameters = {
        name: parameter
        for name, parameter in inspect.signature(parse_arguments).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    names = max(map(len, parameters), default=0)
    lines = []
    for name, parameter in parameters.items():
        about = _about(hints.get(name), name)
        default = _shown_default(parameter.default, about, settings)
        lines += textwrap.wrap(f"  {name:<{names}}  {about.text} (default: {default})", width,
                               subsequent_indent=" " * (names + 4))
    return lines


def _about(hint: object, name: str) -> About:
    for note in getattr(hint, "__metadata__", ()):
        if isinstance(note, About):
            return note
    raise TypeError(f"spider argument {name!r} is not Annotated with About(...)")


def _shown_default(default: object, about: About, settings: BaseSettings) -> str:
    if default is None and about.default_from is not None:
        setting = about.default_from
        try:
            return f"the setting {setting.name}, now {setting.get(settings)}"
        except ValueError:  # a bad value: scrapy crawl says so, -h only points to it
            return f"the setting {setting.name}"
    if default is None:
        return "none"
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)
