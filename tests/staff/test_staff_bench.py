"""bench/queue.py runs end to end at a tiny size (its figures at 100,000 are in BENCHMARKS.md;
no timing is asserted here)."""

from __future__ import annotations

import pytest

from bench.queue import measure


@pytest.mark.postgres
def test_the_queue_benchmark_runs_at_a_tiny_size(pg_database: str) -> None:
    results = measure(tickets=60, rounds=2)
    assert "queue: waiting on staff" in results and "search: email" in results
    for requests, database in results.values():
        assert len(requests) == 2 and database and all(ms >= 0 for ms in database)
