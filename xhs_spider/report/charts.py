"""The report's charts: matplotlib figures as inline SVG, Chinese readable anywhere.

Text stays text (``svg.fonttype = "none"``): each ``<text>`` element names a
list of fonts (DejaVu Sans, the common CJK fonts of Linux, macOS and Windows,
then the generic sans-serif), and the reader's browser draws every character
with the first of them it has. matplotlib only lays the text out, with
DejaVu Sans and the first CJK font of that list installed here; a character no
font here has is still written as text, its width guessed, and one warning
line says so for Chinese (install fonts-wqy-microhei for exact layout).

Titles and labels are plain text: no mathtext (``$`` is a dollar sign), no
TeX. Each line and bar is drawn in a group with a stable id
(``<chart>-line-<n>``, ``<chart>-bar-<series>-<n>``), so what a chart shows
can be counted in the page; lines are keyed by note id, so two notes with the
same title are two lines, told apart in the legend by their ids.

No two series of a chart share a colour (:func:`palette`: matplotlib's ten
colours up to ten series, then its sixty of tab20, tab20b and tab20c, then
hues of their own), and a long legend gets columns. The SVG is compacted
(:mod:`.svg`): the same drawing, a fraction of matplotlib's bytes.
"""

from __future__ import annotations

import colorsys
import io
import logging
import math
import re
import unicodedata
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import colormaps, font_manager
from matplotlib.colors import to_hex
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from xhs_spider.report.svg import compact

logger = logging.getLogger(__name__)

#: Debian's fonts-wqy-microhei, registered with matplotlib when its font cache
#: predates the package.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
#: Fonts with Chinese glyphs, most common first: Linux (WenQuanYi, Noto and
#: Source Han), macOS (PingFang, Hiragino), Windows (Microsoft YaHei, SimHei).
CJK_FAMILIES = [
    "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC",
    "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "SimHei",
]
#: Unicode names of the characters a CJK font draws and DejaVu Sans does not.
CJK_NAMES = ("CJK", "IDEOGRAPHIC", "FULLWIDTH", "HALFWIDTH", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO")
#: ConciseDateFormatter's formats by tick level (years … seconds): the seconds
#: level as a clock time, not "23.05" seconds under an offset label.
TIME_FORMATS = ["%Y", "%b", "%d", "%H:%M", "%H:%M", "%H:%M:%S"]
ZERO_FORMATS = ["", "%Y", "%b", "%b-%d", "%H:%M", "%H:%M:%S"]
OFFSET_FORMATS = ["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d"]
#: The narrowest time axis: snapshots taken within one run (a second apart)
#: would otherwise get ticks in fractions of a second.
MIN_TIME_SPAN = timedelta(minutes=2)
#: Legend entries per column: a legend of 41 channels gets three columns.
LEGEND_ROWS = 16
#: What matplotlib writes about itself in each SVG: nothing, in a report.
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_STYLE: dict[Any, Any] = {  # keys: matplotlib rcParams
    "svg.fonttype": "none",
    # Latin text in DejaVu Sans (what matplotlib measures it with), every
    # other character in the first font of font.sans-serif that has it.
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.sans-serif": [*CJK_FAMILIES, "DejaVu Sans"],
    "text.parse_math": False,
    "text.usetex": False,
    # Stable element ids: the same data gives the same file.
    "svg.hashsalt": "xhs-report",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 9,
}
_MISSING_GLYPH = re.compile(r"Glyph (\d+) .*missing from font")
#: The characters no font here has, collected by :func:`fonts_checked`.
_missing: ContextVar[set[str] | None] = ContextVar("missing_glyphs", default=None)


def _register_cjk_font() -> None:
    if CJK_FONT.is_file() and CJK_FONT.name not in {
            Path(font.fname).name for font in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(CJK_FONT))


@contextmanager
def fonts_checked() -> Iterator[None]:
    """Charts drawn inside: one warning at the end for the characters that
    no font here has (they are in the SVG as text all the same)."""
    missing: set[str] = set()
    token = _missing.set(missing)
    try:
        yield
    finally:
        _missing.reset(token)
    _warn_missing(missing)


def _warn_missing(missing: set[str]) -> None:
    # Only what a CJK font would fix: an emoji's width is guessed even with one.
    missing = {char for char in missing if unicodedata.name(char, "").startswith(CJK_NAMES)}
    if missing:
        logger.warning(
            "No font here has %d of the CJK characters in the report's charts (%s): they are in the "
            "page as text, drawn by the reader's fonts, but the chart layout guesses their width. "
            "Install a CJK font (Debian: fonts-wqy-microhei) for an exact layout.",
            len(missing), "".join(sorted(missing)[:10]))


@contextmanager
def _drawing() -> Iterator[None]:
    _register_cjk_font()
    with matplotlib.rc_context(_STYLE), warnings.catch_warnings(record=True) as caught:
        # Layout only: the browser shapes scripts matplotlib cannot.
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        warnings.filterwarnings("always", message=_MISSING_GLYPH.pattern)
        yield
    missing = set()
    for warning in caught:
        glyph = _MISSING_GLYPH.match(str(warning.message))
        if glyph:
            missing.add(chr(int(glyph.group(1))))
        else:  # not ours to silence
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    collected = _missing.get()
    if collected is None:
        _warn_missing(missing)
    else:
        collected |= missing


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata=_NO_METADATA)
    text = buffer.getvalue()
    return compact(text[text.index("<svg"):])


def palette(count: int) -> list[str]:
    """*count* colours, no two the same: matplotlib's ten for ten series or
    fewer (the look of every other chart), else tab20, tab20b and tab20c
    (sixty), then hues a golden angle apart in three lightnesses."""
    if count <= 10:
        return _listed("tab10")[:count]
    colours = [*_listed("tab20"), *_listed("tab20b"), *_listed("tab20c")]
    index = 0
    while len(colours) < count:
        hue, lightness = (index * 0.618033988749895) % 1, (0.35, 0.5, 0.65)[index % 3]
        colour = to_hex(colorsys.hls_to_rgb(hue, lightness, 0.7))
        if colour not in colours:
            colours.append(colour)
        index += 1
    return colours[:count]


def _listed(name: str) -> list[str]:
    """The colours of one of matplotlib's qualitative (listed) colour maps."""
    colours = colormaps[name]
    return [to_hex(colours(index)) for index in range(colours.N)]


def _legend(axes: Any, handles: list[Any], labels: list[str]) -> None:
    axes.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1),
                ncols=max(1, math.ceil(len(labels) / LEGEND_ROWS)))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def line_chart(
    title: str, series: Mapping[str, list[tuple[str, int]]], ylabel: str, *,
    labels: Mapping[str, str] | None = None, chart_id: str = "chart",
) -> str:
    """One line per series of (ISO time, value) points, as SVG. *series* is
    keyed by an id (a note id); *labels* names them in the legend (the id
    when it has no label)."""
    with _drawing():
        figure = Figure(figsize=(7.5, 3.2))
        axes = figure.add_subplot()
        lines = []
        colours = palette(len(series))
        for index, points in enumerate(series.values()):
            times: Any = [_time(at) for at, _ in points]
            lines += axes.plot(times, [value for _, value in points], marker="o", markersize=3,
                               color=colours[index], gid="%s-line-%d" % (chart_id, index))
        _time_axis(axes, [_time(at) for points in series.values() for at, _ in points])
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        if series:
            _legend(axes, lines, legend_labels(list(series), labels or {}))
        return _svg(figure)


def legend_labels(keys: Sequence[str], labels: Mapping[str, str]) -> list[str]:
    """The legend's text for each key: its label on one line, shortened, or
    the key; a label two keys share gets the key appended."""
    names = [_short(_one_line(labels.get(key) or "") or key) for key in keys]
    shared = {name for name in names if names.count(name) > 1}
    return ["%s (%s)" % (name, key) if name in shared else name
            for name, key in zip(names, keys, strict=True)]


def _time_axis(axes: Any, times: list[datetime]) -> None:
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(
        locator, formats=TIME_FORMATS, zero_formats=ZERO_FORMATS, offset_formats=OFFSET_FORMATS))
    if times and max(times) - min(times) < MIN_TIME_SPAN:
        middle = min(times) + (max(times) - min(times)) / 2
        axes.set_xlim(middle - MIN_TIME_SPAN / 2, middle + MIN_TIME_SPAN / 2)


def bar_chart(
    title: str, labels: list[str], bars: Mapping[str, Mapping[str, float]], ylabel: str,
    *, chart_id: str = "chart", stacked: bool = False,
) -> str:
    """For each of *labels* on the x axis, one bar per series, as SVG: side
    by side, or *stacked* in one column (the series in the legend's order,
    the first at the bottom)."""
    with _drawing():
        figure = Figure(figsize=(7.5, 3.2))
        axes = figure.add_subplot()
        width = 0.8 if stacked else 0.8 / max(len(bars), 1)
        colours = palette(len(bars))
        base = [0.0] * len(labels)
        groups = []
        for index, values in enumerate(bars.values()):
            heights = [values.get(label, 0) for label in labels]
            positions = [position + (0 if stacked else index * width) for position in range(len(labels))]
            groups.append(axes.bar(positions, heights, width, bottom=base if stacked else None,
                                   color=colours[index]))
            if stacked:
                base = [below + height for below, height in zip(base, heights, strict=True)]
            for number, bar in enumerate(groups[-1]):
                bar.set_gid("%s-bar-%d-%d" % (chart_id, index, number))
        offset = 0 if stacked else 0.4 - width / 2
        axes.set_xticks([position + offset for position in range(len(labels))],
                        labels, rotation=30, ha="right", fontsize=7)
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        if len(bars) > 1:
            # The legend top down as the stack: its last series on top.
            order = slice(None, None, -1) if stacked else slice(None)
            _legend(axes, groups[order], list(bars)[order])
        return _svg(figure)


def _one_line(text: str) -> str:
    """*text* without control characters (a newline, or one XML forbids)."""
    return " ".join("".join(" " if unicodedata.category(char) == "Cc" else char for char in text).split())


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
