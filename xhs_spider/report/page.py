"""The report as one HTML file: inline CSS, inline SVG charts, no script.

The summary and the contents first (:mod:`.overview`), then one section per
source, each collapsed (``<details>``: a click opens it, and so does a link
of the contents), so a page of 41 channels opens as one screen; the charts'
styles are one style sheet for the page (:func:`.svg.shared_styles`).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from xhs_spider.report import charts
from xhs_spider.report.discussion import DiscussedNote, Discussion
from xhs_spider.report.figures import Figures, RankedNote, SourceFigures
from xhs_spider.report.overview import contents, section_id, summary
from xhs_spider.report.svg import shared_styles

NOTE_URL = "https://www.xiaohongshu.com/explore/%s"
CSS = """
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "PingFang SC", sans-serif;
       margin: 2rem auto; max-width: 72rem; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #eee; padding: .25rem .6rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: .5rem 0 1.5rem; } figure.chart svg { max-width: 100%; height: auto; }
.columns { display: flex; gap: 2rem; flex-wrap: wrap; }
.muted { color: #777; } .scroll { overflow-x: auto; }
details.source { border-bottom: 1px solid #eee; padding: .3rem 0; }
details.source > summary { cursor: pointer; }
details.source > summary h2 { display: inline; font-size: 1.1rem; border: 0; margin: 0; }
nav#contents ol ol { columns: 16rem; } table#overview th { font-weight: normal; color: #555; }
"""


def render(figures: Figures, *, store: str, generated_at: str) -> str:
    body = [
        "<h1>What the crawl found</h1>",
        '<p class="muted">Since %s, from %s; made %s.</p>' % (
            escape(figures.since), escape(store), escape(generated_at)),
        *summary(figures), *contents(figures),
    ]
    with charts.fonts_checked(), shared_styles() as styles:
        body += _sources(figures.sources)
        body += _recommendations(figures)
        body += _discussion(figures.discussion)
        body += _runs(figures)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="zh-CN">', "<head>", '<meta charset="utf-8">',
        "<title>xhs-spider report since %s</title>" % escape(figures.since[:10]),
        "<style>%s%s</style>" % (CSS, styles.css()), "</head>", "<body>",
        *body, "</body>", "</html>", ""])


def _sources(sources: list[SourceFigures]) -> list[str]:
    """A section per source, collapsed: a channel's (ids by its oid:
    ``top-<oid>``), a keyword's, creator's or topic's (``top-keyword-<keyword>``)."""
    if not sources:
        return ['<h2 id="sources">Channels, keywords, creators, topics</h2>',
                "<p>No appearance in this window.</p>"]
    parts = []
    for figures in sources:
        key, title = escape(figures.key), escape(figures.title)
        best = figures.top[0].likes if figures.top else None
        parts += [
            '<details class="source"><summary><h2 id="%s">%s</h2> <span class="muted">%s</span></summary>' % (
                escape(section_id(figures)), title,
                "most liked: %s" % "{:,}".format(best) if best is not None else "no detail with likes"),
            '<div class="columns">', "<div><h3>Top notes by likes</h3>",
            _table("top-%s" % key, ["note", "title", "likes"],
                   ([_link(note), escape(note.title), _number(note.likes)] for note in figures.top)),
            "</div><div><h3>Rising: growth in likes between snapshots</h3>",
            _table("rising-%s" % key, ["note", "title", "likes", "growth"],
                   ([_link(note), escape(note.title), _number(note.likes), _number(note.growth)]
                    for note in figures.rising)),
            "</div></div>",
            _chart("likes-%s" % key, charts.line_chart(
                "Likes over time: top notes of %s" % figures.title, figures.series, "likes",
                labels={note.note_id: note.title for note in figures.top},
                chart_id="likes-%s" % key)),
            "</details>",
        ]
    return parts


def _recommendations(figures: Figures) -> list[str]:
    """One stacked bar per day, a colour per source; the table a row per source."""
    days = sorted({day for per_day in figures.per_day.values() for day in per_day})
    rows = ([escape(source), *(_number(per_day.get(day, 0)) for day in days), _number(sum(per_day.values()))]
            for source, per_day in figures.per_day.items())
    return [
        '<h2 id="appearances">Appearances per source per day</h2>',
        _chart("recommendations", charts.bar_chart(
            "Appearances per day (channels: feed recommendations)", days, figures.per_day, "appearances",
            chart_id="recommendations", stacked=True)),
        '<details><summary>The numbers, a row per source</summary><div class="scroll">',
        _table("recommendations-per-day", ["source", *map(escape, days), "total"], rows),
        "</div></details>",
    ]


def _discussion(discussion: Discussion) -> list[str]:
    """The most-discussed notes and comments per day; one line when no comment is stored."""
    headers = ["note", "title", "comments stored", "comment counter"]

    def table(table_id: str, notes: list[DiscussedNote]) -> str:
        return _table(table_id, headers, ([_link(note), escape(note.title), _number(note.stored),
                                           _number(note.counter)] for note in notes))

    by_counter = ["<h3>Most discussed: the note's comment counter</h3>",
                  table("discussed-counter", discussion.by_counter)]
    if not discussion.comments:  # the counters are the details': they need no comment stored
        return ['<h2 id="comments">Comments</h2>',
                '<p class="muted">No comment in the store for these notes '
                "(scrapy crawl comments fetches them).</p>",
                *(by_counter if discussion.by_counter else [])]
    days = list(discussion.per_day)
    return [
        '<h2 id="comments">Comments</h2>',
        '<p class="muted">%s comments stored for these notes.</p>' % "{:,}".format(discussion.comments),
        '<div class="columns">', "<div><h3>Most discussed: comments stored</h3>",
        table("discussed-stored", discussion.by_stored), "</div><div>", *by_counter, "</div></div>",
        _chart("comments-per-day", charts.bar_chart(
            "Comments written per day", days, {"comments": discussion.per_day}, "comments",
            chart_id="comments-per-day")),
        _table("comments-per-day", ["day", "comments"],
               ([escape(day), _number(count)] for day, count in discussion.per_day.items())),
    ]


def _runs(figures: Figures) -> list[str]:
    runs = figures.runs
    labels = [run.run_id for run in runs]
    billed = {"billed calls": {label: run.billed for label, run in zip(labels, runs, strict=True)}}
    yields = {"notes per billed call": {
        label: run.notes_per_billed_call or 0 for label, run in zip(labels, runs, strict=True)}}
    rows = ([escape(run.run_id), escape(run.started_at), escape(run.finish_reason),
             _number(run.billed), _number(run.notes_stored), _number(run.notes_per_billed_call),
             _number(run.give_ups)] for run in runs)
    reasons = ([escape(reason), _number(count)] for reason, count in figures.finish_reasons.most_common())
    return [
        '<h2 id="runs">Runs</h2>',
        # Runs in the order they started.
        _chart("billed-per-run", charts.bar_chart(
            "Billed calls per run", labels, billed, "billed calls", chart_id="billed-per-run")),
        _chart("notes-per-call", charts.bar_chart(
            "Notes per billed call", labels, yields, "notes / call", chart_id="notes-per-call")),
        _table("runs", ["run", "started", "finish reason", "billed calls", "notes stored",
                        "notes per billed call", "give-ups"], rows),
        "<h3>Finish reasons</h3>",
        _table("finish-reasons", ["finish reason", "runs"], reasons),
    ]


def _table(table_id: str, headers: list[str], rows: Iterable[list[str]]) -> str:
    body = "".join("<tr>%s</tr>" % "".join(_cell(cell) for cell in row) for row in rows)
    head = "".join("<th>%s</th>" % header for header in headers)
    return '<table id="%s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>' % (
        table_id, head, body or '<tr><td colspan="%d" class="muted">none</td></tr>' % len(headers))


def _cell(cell: str) -> str:
    if cell.startswith("<td"):
        return cell
    return "<td>%s</td>" % cell


def _number(value: float | None) -> str:
    return '<td class="number">%s</td>' % ("" if value is None else "{:,}".format(value))


def _link(note: RankedNote | DiscussedNote) -> str:
    return '<a href="%s">%s</a>' % (escape(NOTE_URL % note.note_id), escape(note.note_id))


def _chart(chart_id: str, svg: str) -> str:
    return '<figure class="chart" id="chart-%s">%s</figure>' % (chart_id, svg)
