"""The report's charts read anywhere and never trip on a title: text stays
text in the SVG (the reader's browser draws Chinese with its own fonts),
titles are plain text (``$`` is a dollar), lines are keyed by note id, and
"rising" lists only notes whose likes rose."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import pytest
from matplotlib import font_manager

from tests.conftest import run_scrapy
from tests.test_commands_report import FOOD, TOP_SQL, page_tables
from xhs_spider.report import charts

SINCE = "2000-01-01T00:00:00.000Z"
POINTS = [("2026-11-30T10:05:22.950Z", 10), ("2026-11-30T10:35:23.100Z", 12)]
#: A glyph outline matplotlib defines when it draws text as paths (font-glyph).
GLYPH_PATH = re.compile(r'<path id="[^"]+-[0-9a-f]+"')
TITLES = ["省钱秘籍$_$", "$$ 和 $^_^$", "_title", "同一个标题", "同一个标题"]


def texts(svg: str) -> list[str]:
    return re.findall(r"<text\b[^>]*>(.*?)</text>", svg)


def legend_texts(svg: str) -> list[str]:
    return texts(svg[svg.index('<g id="legend_1">'):])


def figure(html: str, chart_id: str) -> str:
    start = html.index('<figure class="chart" id="chart-%s">' % chart_id)
    return html[start:html.index("</figure>", start)]


@pytest.fixture
def hostile_store(crawl, tmp_path) -> tuple[Path, list[str]]:
    """Two runs of the food channel (two snapshots per note), then the top
    five notes retitled with what tripped the report, and every note's likes
    flat but three: +1, 0 and -990 between the snapshots."""
    for args in (("pages=1",), ("pages=1", "refresh=true")):
        run = crawl("feed", f"oid={FOOD}", *args)
        assert run.returncode == 0 and run.finish_reason == "finished", run.stdout[-2000:]
    store = tmp_path / "xhs.sqlite3"
    with sqlite3.connect(store) as database:
        top = [note_id for channel, note_id, _ in database.execute(TOP_SQL, (SINCE,)) if channel == FOOD]
        assert len(top) == 5
        for note_id, title in zip(top, TITLES, strict=True):
            database.execute("UPDATE notes SET detail = json_set(detail, '$.title', ?) WHERE note_id = ?",
                             (title, note_id))
        database.execute("UPDATE note_metrics SET likes = 1000")
        last = "(SELECT MAX(fetched_at) FROM note_metrics AS m WHERE m.note_id = note_metrics.note_id)"
        for note_id, likes in ((top[0], 1001), (top[1], 1000), (top[2], 10)):
            database.execute(f"UPDATE note_metrics SET likes = ? WHERE note_id = ? AND fetched_at = {last}",
                             (likes, note_id))
    return store, top


def test_hostile_titles_render_each_top_note_its_own_line_and_rising_only_rose(hostile_store, tmp_path):
    store, top = hostile_store
    path = tmp_path / "report.html"
    done = run_scrapy(["report", "-o", str(path), "--since", "2000-01-01"],
                      env={"XHS_STORE_URI": f"sqlite:///{store}"})
    assert done.returncode == 0 and path.is_file(), done.stderr
    html = path.read_text("utf-8")
    tables = page_tables(html)
    # The top table shows the titles as they are, escaped once.
    assert [row[1] for row in tables[f"top-{FOOD}"]] == TITLES
    # Rising: growths +1, 0 and -990 (all other notes 0): only the one that rose.
    assert tables[f"rising-{FOOD}"] == [[top[0], TITLES[0], "1,001", "1"]]

    svg = figure(html, f"likes-{FOOD}")
    assert len(re.findall(r'<g id="likes-%s-line-\d+">' % FOOD, svg)) == 5  # same titles, two lines
    assert legend_texts(svg) == [
        "省钱秘籍$_$", "$$ 和 $^_^$", "_title", f"同一个标题 ({top[3]})", f"同一个标题 ({top[4]})"]
    assert f"Likes over time: top notes of {FOOD}" in texts(svg)
    assert not GLYPH_PATH.search(html)


def test_chinese_is_text_in_the_svg_in_a_list_of_fonts_readers_have():
    title, label = "点赞随时间变化", "上海落户普通人指南"
    svg = charts.line_chart(title, {"note-1": POINTS}, "likes", labels={"note-1": label})
    elements = re.findall(r"<text\b([^>]*)>(.*?)</text>", svg)
    shown = {text: attributes for attributes, text in elements}
    assert title in shown and label in shown, elements
    families = re.search(r"font-family: ([^;\"]+)", shown[title]).group(1)
    for family in ("'WenQuanYi Micro Hei'", "'Noto Sans CJK SC'", "'PingFang SC'", "'Microsoft YaHei'"):
        assert family in families
    assert families.endswith("sans-serif")
    assert not GLYPH_PATH.search(svg)  # no outlines from whatever font this machine has


@pytest.fixture
def no_cjk_font(monkeypatch):
    """This machine as one without a CJK font: matplotlib finds only Latin fonts."""
    monkeypatch.setattr(charts, "CJK_FONT", Path("/nonexistent/wqy-microhei.ttc"))
    cjk = ("WenQuanYi", "Noto Sans CJK", "Source Han", "Noto Sans SC", "PingFang", "Hiragino",
           "Microsoft YaHei", "SimHei")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [
        font for font in font_manager.fontManager.ttflist if not font.name.startswith(cjk)])
    font_manager.fontManager._findfont_cached.cache_clear()
    yield
    font_manager.fontManager._findfont_cached.cache_clear()


def test_without_a_cjk_font_chinese_is_still_text_and_one_line_says_so(no_cjk_font, caplog):
    with caplog.at_level(logging.WARNING, logger="xhs_spider.report.charts"), charts.fonts_checked():
        first = charts.line_chart("点赞", {"a": POINTS}, "likes", labels={"a": "省钱🔥"})
        second = charts.bar_chart("每天", ["2026-11-30"], {"美食": {"2026-11-30": 3}, "旅行": {}}, "n")
    assert {"点赞", "省钱🔥"} <= set(texts(first)) and {"每天", "美食", "旅行"} <= set(texts(second))
    assert not GLYPH_PATH.search(first + second)
    assert len(caplog.records) == 1, caplog.text  # one line for the whole report
    line = caplog.records[0].getMessage()
    assert "No font here has 10 of the CJK characters" in line and "fonts-wqy-microhei" in line, line
    assert all(char in line for char in "点赞省钱每天美食旅行") and "🔥" not in line  # a CJK font has no 🔥


def test_legend_labels_keep_every_title_and_tell_shared_ones_apart():
    labels = {"n1": "同名", "n2": "同名", "n3": "_hidden?", "n4": " \n", "n5": "x" * 40}
    assert charts.legend_labels(["n1", "n2", "n3", "n4", "n5", "n6", "n7"], {**labels, "n6": "a\nb\x01c"}) == [
        "同名 (n1)", "同名 (n2)", "_hidden?", "n4", "x" * 23 + "…", "a b c", "n7"]
    svg = charts.line_chart("$\\alpha$ $$", {key: POINTS for key in labels}, "likes", labels=labels,
                            chart_id="c")
    assert len(re.findall(r'<g id="c-line-\d+">', svg)) == 5
    assert legend_texts(svg) == ["同名 (n1)", "同名 (n2)", "_hidden?", "n4", "x" * 23 + "…"]
    assert "$\\alpha$ $$" in texts(svg)


def test_no_two_series_share_a_colour_however_many():
    for count in (1, 2, 10, 11, 41, 60, 61, 200):
        colours = charts.palette(count)
        assert len(colours) == len(set(colours)) == count, count
    assert charts.palette(10) == charts.palette(41)[0:20:2]  # ten series: matplotlib's usual colours
    days = ["2026-11-29", "2026-11-30"]
    bars = {"channel-%d" % index: {days[0]: index + 1, days[1]: 2} for index in range(41)}
    svg = charts.bar_chart("appearances", days, bars, "n", chart_id="c", stacked=True)
    fills = {}
    for series, fill in re.findall(r'<g id="c-bar-(\d+)-\d+"><path [^>]*style="fill: (#[0-9a-f]{6})', svg):
        fills.setdefault(series, set()).add(fill)
    assert len(fills) == 41 and all(len(colour) == 1 for colour in fills.values()), fills
    assert len({colour for (colour,) in fills.values()}) == 41
    assert {"channel-0", "channel-40"} <= set(texts(svg))  # the legend names every one


def test_compact_svg_keeps_the_drawing_text_and_ids_and_shares_styles():
    from xhs_spider.report.svg import compact, shared_styles

    labels = {"n1": "点赞 12.345", "n2": "second"}
    inline = charts.line_chart("Likes 0.25", {key: POINTS for key in labels}, "likes", labels=labels,
                               chart_id="c")
    assert texts(inline) == texts(compact(inline))  # already compact: text untouched, "12.345" too
    assert "Likes 0.25" in texts(inline) and "点赞 12.345" in texts(inline)
    assert "<metadata" not in inline and 'id="figure_1"' not in inline and "rotate(-0 " not in inline
    assert not re.search(r'\d\.\d\d+[^<]*"', "".join(re.findall(r"<[^>]+>", inline)))  # a tenth at most
    assert len(re.findall(r'<g id="c-line-\d+">', inline)) == 2 and '<g id="legend_1">' in inline
    with shared_styles() as sheet:
        shared = charts.line_chart("Likes 0.25", {key: POINTS for key in labels}, "likes", labels=labels,
                                   chart_id="c")
    assert " style=" not in shared and texts(shared) == texts(inline)
    assert len(shared) < len(inline) / 2
    for style, name in sheet.classes.items():  # every style of the inline SVG is a rule of the sheet
        assert f'style="{style}"' in inline and f"svg .{name} {{ {style} }}" in sheet.css()
    assert len(set(re.findall(r'style="([^"]*)"', inline))) == len(sheet.classes)
