"""The CPU case of keyword search: ``scrapy crawl search`` against
``scrapy crawl feed``, both at no latency and about the same number of
notes, interleaved. Discovery answers are read shape-tolerantly (every
entry looked at, wrappers unwrapped); this case keeps that reading, and the
appearances and paging it brings, within a tenth of the feed's calls per
second.
"""

from __future__ import annotations

import sys

from benchmarks.measures import median
from benchmarks.runner import CrawlRun
from benchmarks.suite import CaseResult, Suite, interleaved, run_summary
from benchmarks.throughput import cpu_figures

#: Search pages asked per keyword: more than any sandbox keyword has (100 notes, 20 a page).
SEARCH_PAGES = 5
#: The search's calls per second, as a share of the feed's.
TARGET = 0.90


def keywords_for(suite: Suite, notes: int) -> tuple[list[str], int]:
    """Keywords whose results hold at least *notes* distinct notes (from the
    sandbox's free ground truth), and how many they hold."""
    keywords: list[str] = []
    found: set[str] = set()
    while len(found) < notes:
        keyword = f"bench-{len(keywords)}"
        found.update(suite.sandbox.discovery("keyword", keyword)["note_ids"])
        keywords.append(keyword)
    return keywords, len(found)


def search_command(sandbox_url: str, keywords: list[str]) -> list[str]:
    return [sys.executable, "-m", "scrapy", "crawl", "search", "-a", "keyword=" + ",".join(keywords),
            "-a", f"pages={SEARCH_PAGES}", "-s", f"JUSTONEAPI_BASE_URL={sandbox_url}"]


def search_cpu_case(suite: Suite) -> CaseResult:
    suite.configure()
    pages = suite.notes.pages_for(suite.plan.cpu_notes)
    keywords, notes = keywords_for(suite, suite.notes.notes_on(pages))

    def search(label: str) -> CrawlRun:
        return suite.in_fresh_store(label, search_command(suite.sandbox.url, keywords))

    runs = interleaved(suite.plan.rounds, {
        "feed": lambda label: suite.project(label, pages),
        "search": search,
    })
    figures = {name: [cpu_figures(run) for run in group] for name, group in runs.items()}
    feed, found = ({key: median([figure[key] for figure in group]) for key in group[0]}
                   for group in figures.values())
    ratio = found["second_half_calls_per_s"] / feed["second_half_calls_per_s"] if feed["second_half_calls_per_s"] else 0.0
    return CaseResult(
        name="cpu_search",
        title=(f"CPU-bound search: no latency, {len(keywords)} keywords × up to {SEARCH_PAGES} pages "
               f"({notes} notes) against the feed ({pages} pages × {len(suite.plan.channels)} channels)"),
        measured=(f"search {found['second_half_calls_per_s']:.1f} calls/s ({ratio:.2f} of the feed's), "
                  f"{found['cpu_ms_per_call']:.2f} CPU ms/call"),
        baseline=(f"feed: {feed['second_half_calls_per_s']:.1f} calls/s, "
                  f"{feed['cpu_ms_per_call']:.2f} CPU ms/call"),
        target=f"≥{TARGET:.2f} of the feed's calls/s",
        met=ratio >= TARGET,
        figures={"feed": feed, "search": found, "ratio": round(ratio, 3), "keywords": len(keywords)},
        runs=[run_summary(run, **figure) for name, group in runs.items()
              for run, figure in zip(group, figures[name], strict=True)],
    )

