"""Open an HTML file in headless Chromium and say what rendered (a test helper).

    python -m tests.report_browser FILE.html SCREENSHOT.png

Prints one JSON object: what the page shows as it opens (its summary, its
contents and where each link goes, its sections collapsed or open, a
screenshot); then, every section opened as a reader would, every
``figure.chart`` with the size of its SVG and what it draws (each line with
its number of points and the colour Chromium strokes it with, each bar with
its height and fill, found by the ids :mod:`xhs_spider.report.charts` gives
them, and its ``<text>`` strings); the console messages and page errors. Run as a
subprocess: Playwright's sync API refuses to run inside the asyncio loop of
the test session. The browser is the system's Chromium (Debian's package);
Playwright downloads none.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
CHART_SIZES = """() => [...document.querySelectorAll('figure.chart')].map(figure => {
  const svg = figure.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const key = figure.id.replace(/^chart-/, '');
  const drawn = kind => svg ? [...svg.querySelectorAll(`g[id^="${key}-${kind}-"]`)] : [];
  const paint = (g, property) => getComputedStyle(g.querySelector(':scope > path'))[property];
  return {id: figure.id, width: box.width, height: box.height,
          lines: drawn('line').map(g => ({id: g.id, points: g.querySelectorAll('use').length,
                                          colour: paint(g, 'stroke')})),
          bars: drawn('bar').map(g => ({id: g.id, height: g.getBoundingClientRect().height,
                                        colour: paint(g, 'fill')})),
          texts: svg ? [...svg.querySelectorAll('text')].map(text => text.textContent) : []};
})"""
AS_OPENED = """() => {
  const summary = document.querySelector('#summary');
  const links = [...document.querySelectorAll('nav#contents a')];
  return {summary: summary ? [...summary.querySelectorAll('tr')].map(row => row.innerText) : null,
          contents: links.map(link => ({text: link.textContent, href: link.getAttribute('href'),
                                        found: !!document.getElementById(
                                          decodeURIComponent(link.getAttribute('href').slice(1)))})),
          details: document.querySelectorAll('details').length,
          open: document.querySelectorAll('details[open]').length,
          height: document.documentElement.scrollHeight};
}"""
OPEN_ALL = "() => document.querySelectorAll('details').forEach(details => { details.open = true; })"


def inspect(page_path: Path, screenshot: Path) -> dict:
    console: list[str] = []
    errors: list[str] = []
    requests: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        page = browser.new_page()
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        opened = page.evaluate(AS_OPENED)
        page.screenshot(path=str(screenshot), full_page=True)
        page.evaluate(OPEN_ALL)
        charts = page.evaluate(CHART_SIZES)
        browser.close()
    return {"opened": opened, "charts": charts, "console": console, "errors": errors, "requests": requests}


if __name__ == "__main__":
    print(json.dumps(inspect(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))
