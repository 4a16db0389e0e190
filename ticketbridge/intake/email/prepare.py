"""Parse fetched mail and compose receipts in helper processes, beside the database work.

Parsing is about a quarter of a fetcher's time per new request, composing its receipt about
a third, and neither needs the database. `MailHelper` parses the next batch in a helper
process while the current batch's transaction runs, so the two overlap, and composes a
batch's receipts in two processes at once (the email package is pure Python: one process
uses one core). The helpers start lazily, only when there is such work, with the
"forkserver" method, which is safe in a process with threads. Both jobs are pure functions
that never raise for bad input; if a helper itself dies, the work is done here instead, so
a broken helper costs speed, never a message.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from ticketbridge.intake.email.dedupe import stable_hash
from ticketbridge.intake.email.parse import ParsedEmail, parse_message
from ticketbridge.outbox.compose import Composed, Draft, compose_drafts

log = logging.getLogger(__name__)
Parsed = tuple[ParsedEmail, str]
WORKERS = 2
MIN_PARALLEL_COMPOSE = 20


def parse_all(raws: Sequence[bytes]) -> list[Parsed]:
    """Each raw mail parsed, with its content hash (the dedupe key's fallback)."""
    return [(parse_message(raw), stable_hash(raw)) for raw in raws]


class MailHelper:
    """The helper processes of one fetcher; `close` stops them (they restart when needed)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, raws: Sequence[bytes]) -> Future[list[Parsed]]:
        """Start parsing `raws` in a helper; collect them with `result`."""
        return self._start().submit(parse_all, list(raws))

    def result(self, future: Future[list[Parsed]], raws: Sequence[bytes]) -> list[Parsed]:
        """The parsed batch; parsed here when the helper failed (it is replaced for the next
        one)."""
        try:
            return future.result()
        except Exception:  # the helper died or could not start; parsing here never raises
            log.warning("parsing helper failed; parsing this batch in the fetcher", exc_info=True)
            self.close()
            return parse_all(raws)

    def compose(self, drafts: Sequence[Draft]) -> list[Composed]:
        """`compose_drafts`, split across the helpers; a few drafts are not worth the round trip."""
        if len(drafts) < MIN_PARALLEL_COMPOSE:
            return compose_drafts(drafts)
        size = -(-len(drafts) // WORKERS)
        try:
            pool = self._start()
            futures = [
                pool.submit(compose_drafts, list(drafts[start : start + size]))
                for start in range(0, len(drafts), size)
            ]
            return [composed for future in futures for composed in future.result()]
        except Exception:  # a helper died or could not start; composing here never raises for them
            log.warning(
                "composing helper failed; composing these emails in the fetcher", exc_info=True
            )
            self.close()
            return compose_drafts(drafts)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=WORKERS, mp_context=multiprocessing.get_context("forkserver")
            )
        return self._pool
