"""bench/staff_queue.py runs end to end at a tiny size (its figures at 100,000 are in
BENCHMARKS.md; no timing is asserted here)."""

from __future__ import annotations

import pytest

from bench.staff_queue import TARGET_MS, YARDSTICK, figures, measure


@pytest.mark.postgres
def test_the_queue_benchmark_runs_at_a_tiny_size(pg_database: str) -> None:
    results = measure(tickets=60, rounds=2)
    for kind in ("queue: waiting on staff", "queue: closed, page 20", "search: email", YARDSTICK):
        assert kind in results
    for timings in results.values():
        assert len(timings.server) == len(timings.request) == 2 and timings.database
        assert all(
            0 < server <= request
            for server, request in zip(timings.server, timings.request, strict=True)
        )
    reported = figures(results)
    assert len(reported) == len(results)
    assert {f.target for f in reported} == {None, TARGET_MS}
