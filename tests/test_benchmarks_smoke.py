"""The benchmark suite runs from end to end: ``python -m benchmarks --quick``.

Its figures are too small to judge the crawl by; what is checked is that
every case ran, against the sandbox, and left its figures in the JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: Every test here starts a process (a crawl, a command or a server).
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
CASES = {"unknown_cap", "max_rps", "latency_bound", "cpu_bound", "cpu_search", "memory", "cost", "storage",
         "workers_scaling", "workers_shared_cap", "export"}


def test_quick_suite_writes_every_case(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.json"
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    report = json.loads(output.read_text(encoding="utf-8"))
    assert set(report["cases"]) == CASES
    assert "| case | measured | baseline | target | verdict |" in finished.stdout
    for name, case in report["cases"].items():
        assert case["measured"] and case["figures"], name
        failed = [run for run in case["runs"] if run["returncode"] != 0]
        assert not failed, (name, [run.get("log_tail", "")[-1500:] for run in failed])
    # Measured from the sandbox's per-second counts: calls were seen.
    assert report["cases"]["unknown_cap"]["figures"]["successful_calls_per_s"] > 0
    assert report["cases"]["cpu_bound"]["figures"]["bare"]["second_half_calls_per_s"] > 0
    assert report["cases"]["memory"]["figures"]["peak_rss_mb"] > 0
    assert report["cases"]["workers_scaling"]["figures"]["calls_per_s"]["4"] > 0
    assert report["cases"]["workers_shared_cap"]["figures"]["busiest_second_calls"] > 0
    assert report["cases"]["export"]["figures"]["peak_rss_mb"] > 0
    cost = report["cases"]["cost"]["figures"]
    assert cost["first_run"]["notes_on_feed_pages"] > 0


def test_the_search_cpu_case_runs_alone_on_the_cpu_cases_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    """``--cases cpu_search`` is the search half of ``cpu``: known, sized like
    ``cpu``, and not repeated by the default run (which runs ``cpu``)."""
    from benchmarks.__main__ import CASES, KNOWN_CASES, QUICK, main, sandbox_pages
    from benchmarks.suite import NoteCounter

    assert "cpu_search" in KNOWN_CASES and "cpu_search" not in CASES
    notes = NoteCounter(QUICK.seed, QUICK.channels)
    assert sandbox_pages(QUICK, notes, ["cpu_search"]) == sandbox_pages(QUICK, notes, ["cpu"])
    assert main(["--cases", "cpu_serach"]) == 2
    assert "unknown cases: cpu_serach;" in capsys.readouterr().err
