"""Parse fetched mail and compose receipts in a helper process, beside the database work.

Parsing is about a quarter of a fetcher's time per new request, composing its receipt about
a third, and neither needs the database. `MailHelper` parses the next batch in a helper
process while the current batch's transaction runs, so the two overlap, and composes a
batch's receipts half there and half in the fetcher (the email package is pure Python: one
process uses one core).

The helper is a plain child process, not a multiprocessing pool: multiprocessing's forkserver
and resource tracker outlived a SIGKILLed fetcher (issue 14) and its fork-server children
carried the whole command's imports. This child imports only the parser and the composer,
reads pickled requests on its stdin and answers on a pipe of its own, and ends when the
fetcher ends however it ends: the kernel kills it with its parent (`lifeline.die_with_parent`),
and it also stops at the end of its stdin. Both jobs are pure functions that never raise for
bad input; if the helper itself fails, the work is done in the fetcher instead, so a broken
helper costs speed, never a message.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ticketbridge.intake.email.dedupe import stable_hash
from ticketbridge.intake.email.parse import ParsedEmail, parse_message
from ticketbridge.lifeline import die_with_parent
from ticketbridge.outbox.compose import Composed, Draft, compose_drafts

log = logging.getLogger(__name__)
Parsed = tuple[ParsedEmail, str]
MIN_PARALLEL_COMPOSE = 20
STOP_SECONDS = 5
_PACKAGE_ROOT = Path(__file__).resolve().parents[3]


class HelperFailed(Exception):
    """The helper process died, could not start, or its job raised."""


def parse_all(raws: Sequence[bytes]) -> list[Parsed]:
    """Each raw mail parsed, with its content hash (the dedupe key's fallback)."""
    return [(parse_message(raw), stable_hash(raw)) for raw in raws]


TASKS: dict[str, Callable[[Any], Any]] = {"parse": parse_all, "compose": compose_drafts}


class _HelperProcess:
    """One child running `TASKS`. Each request gets a number, which `receive` takes: the answers
    come back in the order the requests went, and one read early is kept until asked for."""

    def __init__(self) -> None:
        path = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": path},
            )
        except OSError as exc:
            raise HelperFailed(f"cannot start the helper: {exc}") from exc
        self._sent = self._received = 0
        self._answers: dict[int, tuple[bool, Any]] = {}

    def send(self, task: str, payload: Any) -> int:
        # Answers still due are read first: a helper writing a large answer nobody reads would
        # stop reading its requests, and both pipes would fill.
        while self._received < self._sent:
            self._read_one()
        stdin = _stream(self.process.stdin)
        try:
            pickle.dump((task, payload), stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.flush()
        except (OSError, pickle.PicklingError) as exc:
            raise HelperFailed(f"helper {self.process.pid}: {exc}") from exc
        self._sent += 1
        return self._sent - 1

    def receive(self, number: int) -> Any:
        while number not in self._answers:
            self._read_one()
        ok, value = self._answers.pop(number)
        if not ok:
            raise HelperFailed(f"helper {self.process.pid}: {value}")
        return value

    def _read_one(self) -> None:
        try:
            answer = pickle.load(_stream(self.process.stdout))
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise HelperFailed(f"helper {self.process.pid} ended: {exc!r}") from exc
        self._answers[self._received] = answer
        self._received += 1

    def stop(self) -> None:
        """Close its pipes, which ends it; kill it if it does not end at once."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    log.debug("helper %s pipe already broken", self.process.pid)
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _stream(stream: IO[bytes] | None) -> IO[bytes]:
    if stream is None:
        raise HelperFailed("the helper's pipe is closed")
    return stream


@dataclass(frozen=True)
class Pending:
    """A batch handed to the helper as request `number`; `helper` is None when it could not be
    handed over."""

    helper: _HelperProcess | None
    number: int = 0


class MailHelper:
    """The helper process of one fetcher, started when first needed; `close` stops it."""

    def __init__(self) -> None:
        self._helper: _HelperProcess | None = None

    def submit(self, raws: Sequence[bytes]) -> Pending:
        """Start parsing `raws` in the helper; collect them with `result`."""
        try:
            helper = self._start()
            number = helper.send("parse", list(raws))
        except HelperFailed:
            log.warning("parsing helper failed; the fetcher will parse this batch", exc_info=True)
            self.close()
            return Pending(None)
        return Pending(helper, number)

    def result(self, pending: Pending, raws: Sequence[bytes]) -> list[Parsed]:
        """The parsed batch; parsed here when the helper failed (a new one starts next time)."""
        if pending.helper is None:
            return parse_all(raws)
        try:
            parsed: list[Parsed] = pending.helper.receive(pending.number)
        except HelperFailed:
            log.warning("parsing helper failed; parsing this batch in the fetcher", exc_info=True)
            self.close()
            return parse_all(raws)
        return parsed

    def compose(self, drafts: Sequence[Draft]) -> list[Composed]:
        """`compose_drafts`, half in the helper and half here; a few are not worth the trip."""
        if len(drafts) < MIN_PARALLEL_COMPOSE:
            return compose_drafts(drafts)
        half = len(drafts) // 2
        try:
            helper = self._start()
            number = helper.send("compose", list(drafts[:half]))
            here = compose_drafts(drafts[half:])
            there: list[Composed] = helper.receive(number)
        except HelperFailed:
            log.warning(
                "composing helper failed; composing these emails in the fetcher", exc_info=True
            )
            self.close()
            return compose_drafts(drafts)
        return there + here

    def close(self) -> None:
        if self._helper is not None:
            self._helper.stop()
            self._helper = None

    def _start(self) -> _HelperProcess:
        if self._helper is None:
            self._helper = _HelperProcess()
        return self._helper


def serve(parent_pid: int) -> None:
    """The helper's loop: answer requests until stdin ends, and die with the parent anyway.

    Answers go to a duplicate of the original stdout, and stdout itself is pointed at stderr,
    so nothing a library prints can corrupt the answers.
    """
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the fetcher, which stops us
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    while True:
        try:
            task, payload = pickle.load(requests)
        except (EOFError, OSError, pickle.UnpicklingError):  # the fetcher closed or died
            return
        try:
            answer = (True, TASKS[task](payload))
        except Exception as exc:  # noqa: BLE001 - reported to the fetcher, which works alone
            answer = (False, f"{type(exc).__name__}: {exc}")
        try:
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()
        except BrokenPipeError:
            return


if __name__ == "__main__":
    serve(int(sys.argv[1]))
