"""Run calls in a forked child that is killed when it overruns its time budget.

Some work cannot be interrupted from Python: a CEL expression runs inside the Rust library
without returning to the interpreter, so neither a signal handler nor a thread can stop a nested
`.all()` that iterates for minutes, and a stack overflow in it kills the whole process. A forked
child shares the loaded code and data (no re-import, a few milliseconds), reports each result as
a JSON line as soon as it has it, and can be killed; the caller learns which call overran.
"""

from __future__ import annotations

import json
import math
import os
import resource
import select
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

READ_CHUNK = 65536


@dataclass(frozen=True)
class Timeboxed:
    """The JSON results of the calls that finished, in order; `stopped` says why the others did
    not run (None when all did)."""

    results: list[Any]
    stopped: str | None = None


def run_within(calls: Sequence[Callable[[], Any]], seconds: float) -> Timeboxed:
    """Run `calls` in order in one child process; each must return a JSON-serialisable value."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's stack
        os.close(read_end)
        _run_child(calls, write_end, seconds)
    os.close(write_end)
    output, overran = _read_until(read_end, pid, time.monotonic() + seconds)
    _, status = os.waitpid(pid, 0)
    results = [json.loads(line) for line in output.split(b"\n")[: output.count(b"\n")]]
    if len(results) == len(calls):
        return Timeboxed(results)
    if overran:
        return Timeboxed(results, f"took longer than {seconds:g} s")
    if os.WIFSIGNALED(status):
        return Timeboxed(results, f"crashed ({signal.Signals(os.WTERMSIG(status)).name})")
    return Timeboxed(results, "failed")


def _run_child(calls: Sequence[Callable[[], Any]], write_end: int, seconds: float) -> None:
    """Compute and report each result; `os._exit` so nothing of the parent (atexit hooks, open
    database connections, buffered output) runs or is flushed twice in the child."""
    code = 1
    try:
        # If the parent dies before it can kill us, the kernel stops us at the CPU budget.
        budget = math.ceil(seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (budget, budget))
        for call in calls:
            os.write(write_end, json.dumps(call()).encode() + b"\n")
        code = 0
    finally:
        os._exit(code)


def _read_until(read_end: int, pid: int, deadline: float) -> tuple[bytes, bool]:
    """Everything the child writes until it exits, or until the deadline (then it is killed)."""
    output = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                return output, True
            chunk = os.read(read_end, READ_CHUNK)
            if not chunk:
                return output, False
            output += chunk
    finally:
        os.close(read_end)
