"""Issue 14: the helpers a long-running command starts end when it dies, even by SIGKILL (a
deploy, the OOM killer), instead of living on under init and piling up with every crash."""

from __future__ import annotations

import signal
from collections.abc import Callable

from tests.fixtures.backends import WorkerProcess, wait_until
from tests.mail.processes import process_tree, running
from ticketbridge.runtime import Runtime


def test_the_workers_scheduler_ends_when_the_worker_is_killed(
    make_runtime: Callable[..., Runtime],
    pg_url: str,
    redis_url: str,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    runtime = make_runtime(database_url=pg_url, redis_url=redis_url)
    worker = start_worker(runtime.settings)
    pid = worker.process.pid
    helpers = wait_until(
        lambda: process_tree(pid) - {pid}, timeout=60, what="the rq scheduler process"
    )
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait(timeout=10)
    wait_until(lambda: not running(helpers), timeout=30, what=f"helpers {helpers} to end")
