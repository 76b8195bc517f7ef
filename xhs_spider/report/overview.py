"""The top of the report: the summary, and the contents that link every section.

The summary (``<table id="overview">``, a row per figure): the channels the
window's runs crawled and those that listed notes, the other sources by
kind, the notes the sources listed, the comments stored, the billed calls of
the runs, and the last run with its finish reason and outcome (good, or
failed with what to check). The contents (``<nav id="contents">``) link the
summary, each source's section by kind, and the sections after them.
"""

from __future__ import annotations

from html import escape

from xhs_spider.dataset.query import CHANNEL
from xhs_spider.outcome.reasons import ADVICE, exit_status, failed
from xhs_spider.report.figures import KIND_TITLES, Figures, RunFigures, SourceFigures

#: The kinds of source other than channels, and what the summary calls many of them.
OTHER_KINDS = {"keyword": "keywords", "user": "creators", "topic": "topics"}


def section_id(source: SourceFigures) -> str:
    """The id of a source's heading: ``channel-<oid>``, ``keyword-咖啡``."""
    return "channel-" + source.key if source.kind == CHANNEL else source.key


def summary(figures: Figures) -> list[str]:
    channels = figures.of_kind(CHANNEL)
    crawled = figures.channels_crawled | {source.value for source in channels}
    others = ", ".join("%d %s" % (len(figures.of_kind(kind)), plural)
                       for kind, plural in OTHER_KINDS.items() if figures.of_kind(kind))
    billed = sum(run.billed for run in figures.runs)
    rows = [
        ("Channels", "%d crawled, %d with notes listed" % (len(crawled), len(channels))),
        ("Other sources", others or "none"),
        ("Notes", "%s listed by the sources" % _count(figures.notes)),
        ("Comments", "%s stored for these notes" % _count(figures.discussion.comments)),
        ("Billed calls", "%s in %s" % (_count(billed), _plural(len(figures.runs), "run"))),
        ("Last run", _last_run(figures.runs[-1]) if figures.runs else "none in this window"),
    ]
    body = "".join('<tr><th scope="row">%s</th><td>%s</td></tr>' % (name, value) for name, value in rows)
    return ['<section id="summary">', "<h2>Summary</h2>",
            '<table id="overview"><tbody>%s</tbody></table>' % body, "</section>"]


def _last_run(run: RunFigures) -> str:
    """The run, when it ran, how it ended and what that means (escaped)."""
    reason = run.finish_reason
    if failed(reason):
        outcome = '<strong class="failed">failed</strong> (exit status %d)' % exit_status(reason)
        if reason in ADVICE:
            outcome += ": %s" % escape(ADVICE[reason])
    else:
        outcome = '<span class="good">good</span> (exit status 0)'
    return "%s%s, %s to %s: %s, %s" % (
        escape(run.run_id), " (%s)" % escape(run.spider) if run.spider else "", escape(run.started_at),
        escape(run.finished_at or "?"), escape(reason), outcome)


def contents(figures: Figures) -> list[str]:
    """The contents: the summary, each source by kind, then the other sections."""
    items = ['<li><a href="#summary">Summary</a></li>']
    kinds = [CHANNEL, *OTHER_KINDS]
    for kind in kinds:
        sources = figures.of_kind(kind)
        if sources:
            links = "".join('<li><a href="#%s">%s</a></li>' % (
                escape(section_id(source)), escape(source.title.split(": ", 1)[-1]))
                for source in sources)
            items.append("<li>%s (%d)<ol>%s</ol></li>" % (
                escape(KIND_TITLES.get(kind, kind) + "s"), len(sources), links))
    if not figures.sources:
        items.append('<li><a href="#sources">Channels, keywords, creators, topics</a></li>')
    items += ['<li><a href="#appearances">Appearances per source per day</a></li>',
              '<li><a href="#comments">Comments</a></li>', '<li><a href="#runs">Runs</a></li>']
    return ['<nav id="contents">', "<h2>Contents</h2>", "<ol>%s</ol>" % "".join(items), "</nav>"]


def _count(number: int) -> str:
    return "{:,}".format(number)


def _plural(number: int, noun: str) -> str:
    return "%s %s%s" % (_count(number), noun, "" if number == 1 else "s")
