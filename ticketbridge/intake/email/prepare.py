"""Parse and hash fetched mail in a helper process, ahead of the database work.

Parsing is about a quarter of a fetcher's time per message and needs no database, while
storing a batch mostly waits on the ORM and PostgreSQL. `ParseAhead` parses the next batch
in one helper process while the current batch's transaction runs, so the two overlap. The
helper is started lazily (only when a pass has a batch behind the current one) with the
"forkserver" method, which is safe in a process with threads, and it imports only this
module and the parser. Parsing never raises; if the helper itself dies, the batch is parsed
here instead, so a broken helper costs speed, never a message.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from ticketbridge.intake.email.dedupe import stable_hash
from ticketbridge.intake.email.parse import ParsedEmail, parse_message

log = logging.getLogger(__name__)
Parsed = tuple[ParsedEmail, str]


def parse_all(raws: Sequence[bytes]) -> list[Parsed]:
    """Each raw mail parsed, with its content hash (the dedupe key's fallback)."""
    return [(parse_message(raw), stable_hash(raw)) for raw in raws]


class ParseAhead:
    """One helper process for a fetcher run; `close` it when the run ends."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, raws: Sequence[bytes]) -> Future[list[Parsed]]:
        """Start parsing `raws` in the helper; collect them with `result`."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("forkserver"))
        return self._pool.submit(parse_all, list(raws))

    def result(self, future: Future[list[Parsed]], raws: Sequence[bytes]) -> list[Parsed]:
        """The parsed batch; parsed here when the helper failed (it is replaced for the next one)."""
        try:
            return future.result()
        except Exception:  # the helper died or could not start; parsing here never raises
            log.warning("parsing helper failed; parsing this batch in the fetcher", exc_info=True)
            self.close()
            return parse_all(raws)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
