"""The command a shared crawl was started with: every worker must run the same.

A worker of another spider, or of the same spider with other arguments,
would take requests it cannot handle (a note worker popping a feed page
fails decoding its callback and leaves it in hand) or crawl what it was not
asked to while its own work is never done. The crawl's first worker records
its spider and a short hash of each ``-a`` argument (not the values: short,
and nothing of the command to read back) in ``xhs:<id>:command``; a worker
whose command differs is refused. Arguments starting with ``_`` (Scrapyd's
``_job``, different for every job) are not the command's.
"""

from __future__ import annotations

import hashlib


def command_record(spider_name: str, arguments: dict[str, str]) -> str:
    """``spider name=hash name=hash`` with the arguments sorted by name."""
    hashed = [f"{name}={_digest(value)}" for name, value in sorted(arguments.items())
              if not name.startswith("_")]
    return " ".join([spider_name, *hashed])


def command_difference(recorded: str, mine: str) -> str | None:
    """How *mine* differs from the crawl's *recorded* command, or ``None``."""
    if recorded == mine:
        return None
    theirs_spider, theirs = _parse(recorded)
    my_spider, my_arguments = _parse(mine)
    differing = sorted(name for name in theirs.keys() | my_arguments.keys()
                       if theirs.get(name) != my_arguments.get(name))
    return (f"it runs scrapy crawl {theirs_spider} ({_names(theirs)}), this worker scrapy crawl "
            f"{my_spider} ({_names(my_arguments)}); differing arguments: {', '.join(differing) or 'none'}")


def _digest(value: str) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:8]


def _parse(record: str) -> tuple[str, dict[str, str]]:
    spider, *arguments = record.split(" ")
    return spider, dict(argument.split("=", 1) for argument in arguments)


def _names(arguments: dict[str, str]) -> str:
    return "-a " + ", -a ".join(sorted(arguments)) if arguments else "no arguments"
