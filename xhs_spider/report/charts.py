"""The report's charts: matplotlib figures as inline SVG, Chinese readable.

Text is drawn as paths (``svg.fonttype = "path"``), so a browser needs no
font to show it. Chinese comes from WenQuanYi Micro Hei (Debian's
fonts-wqy-microhei) when installed; without it, or for a glyph no font has
(most emoji), matplotlib draws an empty box instead of warning.

Each line and bar is drawn in a group with a stable id (``<chart>-line-<n>``,
``<chart>-bar-<series>-<n>``), so what a chart shows can be counted in the page.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_FAMILY = "WenQuanYi Micro Hei"
#: The narrowest time axis: snapshots taken within one run (a second apart)
#: would otherwise get ticks in fractions of a second.
MIN_TIME_SPAN = timedelta(minutes=2)
#: ConciseDateFormatter's formats by tick level (years … seconds): the seconds
#: level as a clock time, not "23.05" seconds under an offset label.
TIME_FORMATS = ["%Y", "%b", "%d", "%H:%M", "%H:%M", "%H:%M:%S"]
ZERO_FORMATS = ["", "%Y", "%b", "%b-%d", "%H:%M", "%H:%M:%S"]
OFFSET_FORMATS = ["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d"]
_STYLE: dict[str, Any] = {
    "svg.fonttype": "path",
    # Stable element ids: the same data gives the same file.
    "svg.hashsalt": "xhs-report",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 9,
}


def font_families() -> list[str]:
    """The font families to draw with: the CJK font first when present."""
    if CJK_FONT.is_file():
        if CJK_FAMILY not in {font.name for font in font_manager.fontManager.ttflist}:
            font_manager.fontManager.addfont(str(CJK_FONT))
        return [CJK_FAMILY, "DejaVu Sans"]
    return ["DejaVu Sans"]


@contextmanager
def _drawing() -> Iterator[None]:
    style: Any = {**_STYLE, "font.family": font_families()}
    with matplotlib.rc_context(style), warnings.catch_warnings():
        # A glyph no installed font has (an emoji in a title) is drawn as a box.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        yield


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def line_chart(
    title: str, series: dict[str, list[tuple[str, int]]], ylabel: str, *, chart_id: str = "chart",
) -> str:
    """One line per series of (ISO time, value) points, as SVG."""
    with _drawing():
        figure = Figure(figsize=(7.5, 3.2))
        axes = figure.add_subplot()
        for index, (label, points) in enumerate(series.items()):
            times: Any = [_time(at) for at, _ in points]
            axes.plot(times, [value for _, value in points], marker="o", markersize=3,
                      label=_short(label), gid="%s-line-%d" % (chart_id, index))
        _time_axis(axes, [_time(at) for points in series.values() for at, _ in points])
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        if series:
            axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
        return _svg(figure)


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
    *, chart_id: str = "chart",
) -> str:
    """Grouped bars: for each of *labels* on the x axis, one bar per series, as SVG."""
    with _drawing():
        figure = Figure(figsize=(7.5, 3.2))
        axes = figure.add_subplot()
        width = 0.8 / max(len(bars), 1)
        for index, (name, values) in enumerate(bars.items()):
            positions = [position + index * width for position in range(len(labels))]
            drawn = axes.bar(positions, [values.get(label, 0) for label in labels], width, label=name)
            for number, bar in enumerate(drawn):
                bar.set_gid("%s-bar-%d-%d" % (chart_id, index, number))
        axes.set_xticks([position + 0.4 - width / 2 for position in range(len(labels))],
                        labels, rotation=30, ha="right", fontsize=7)
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        if len(bars) > 1:
            axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
        return _svg(figure)


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
