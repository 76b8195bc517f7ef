"""matplotlib's SVG made light enough for a page of 40-odd charts.

matplotlib writes every coordinate with six decimals, a line break inside
each path, an id on every group, a no-op rotation on every text and the
same long ``style`` (fonts list included) on every element. :func:`compact`
keeps the drawing and its text as they are and takes the rest off:
coordinates rounded to a tenth of a point (about a tenth of a pixel), the
white space between elements, the metadata, matplotlib's own group ids
(the ids the report gives, ``<chart>-line-<n>``, and the legend's, stay).
Inside :func:`shared_styles` each distinct ``style`` becomes a class of one
style sheet for the whole page (:func:`SharedStyles.css`); outside it the
SVG keeps its inline styles and stands alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: A number with more than one decimal, in an element's attributes.
_LONG_NUMBER = re.compile(r"(-?\d+\.\d)\d+")
_TAG = re.compile(r"<[^>]+>")
_NO_ROTATION = re.compile(r' transform="rotate\(-?0 [^"]*\)"')
#: The group ids matplotlib numbers itself (figure_1, xtick_3, line2d_7, text_2, …).
_OWN_ID = re.compile(
    r' id="(?:figure|axes|patch|xtick|ytick|line2d|text|matplotlib\.axis|PolyCollection'
    r'|PathCollection|LineCollection|BarContainer)_\d+"')
_STYLE = re.compile(r' style="([^"]*)"')
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)
_BETWEEN = re.compile(r">\s+<")


class SharedStyles:
    """The page's style sheet: one class per distinct inline style."""

    def __init__(self, prefix: str = "c") -> None:
        self.prefix = prefix
        self.classes: dict[str, str] = {}

    def name(self, style: str) -> str:
        if style not in self.classes:
            self.classes[style] = "%s%d" % (self.prefix, len(self.classes))
        return self.classes[style]

    def css(self) -> str:
        """The rules, one a line, for the page's ``<style>``."""
        return "\n".join("svg .%s { %s }" % (name, style) for style, name in self.classes.items())


_shared: ContextVar[SharedStyles | None] = ContextVar("shared_svg_styles", default=None)


@contextmanager
def shared_styles() -> Iterator[SharedStyles]:
    """SVG compacted inside names its styles as classes of the sheet yielded."""
    sheet = SharedStyles()
    token = _shared.set(sheet)
    try:
        yield sheet
    finally:
        _shared.reset(token)


def compact(svg: str) -> str:
    """*svg* as light as it goes with the same drawing, text and report ids."""
    svg = _METADATA.sub("", svg)
    sheet = _shared.get()

    def tag(match: re.Match[str]) -> str:
        text = " ".join(_LONG_NUMBER.sub(r"\1", match.group()).split())
        text = _OWN_ID.sub("", _NO_ROTATION.sub("", text))
        if sheet is not None:
            text = _STYLE.sub(lambda style: ' class="%s"' % sheet.name(style.group(1)), text)
        return text

    return _BETWEEN.sub("><", _TAG.sub(tag, svg))
