"""The benchmarks still run: `bench/run_all --tiny` at a size of seconds, never a timed test.

Figures are judged in BENCHMARKS.md, not here; this only proves that each benchmark starts,
measures and reports, so a change that breaks one is caught before someone needs its figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.figures import Figure
from bench.run_all import BEGIN, BENCHMARKS, END, main

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def test_every_benchmark_runs_at_a_tiny_size_and_is_reported(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKETBRIDGE_BENCH_REDIS", redis_url)  # this run's own, flushed freely
    notes = "# Benchmarks\n\nHand-written notes stay.\n"
    (tmp_path / "BENCHMARKS.md").write_text(notes)
    assert main(["--tiny", "--output", str(tmp_path)]) == 0
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert text.count(BEGIN) == text.count(END) == 1
    assert "Hand-written notes stay." in text
    headings = (
        "forms end to end",
        "license sync API",
        "inbound email vs django-helpdesk",
        "inbound email, ingested and end to end",
        "staff queue at scale",
        "workflow engine",
    )
    for heading in headings:
        assert f"### {heading}" in text
    assert "| tickets emailed/s, 1 worker |" in text
    assert "| search: email, server p95 |" in text
    assert "fetcher process tree peak memory" in text
    assert (tmp_path / "docs" / "benchmarks.png").stat().st_size > 1000
    assert len(BENCHMARKS) == 7


def test_a_figure_is_judged_against_its_yardstick_measured_in_the_same_run() -> None:
    base = Figure("b", "yardstick", 100.0, "jobs/s")
    fast = Figure("b", "fast", 250.0, "tickets/s", yardstick="yardstick", target=2.0)
    slow = Figure("b", "slow", 150.0, "tickets/s", yardstick="yardstick", target=2.0)
    latency = Figure("b", "p99", 120.0, "ms", target=100, higher_is_better=False)
    figures = [base, fast, slow, latency]
    assert fast.ratio(figures) == 2.5
    assert [f.meets(figures) for f in figures] == [None, True, False, False]
