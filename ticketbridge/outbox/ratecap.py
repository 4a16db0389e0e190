"""The per-recipient rate cap: a runaway workflow (or a mail loop we did not catch) cannot
flood one address. An email over the cap is not dropped, only held: it stays pending with a
later `next_attempt_at`, so the sweeper sends it when the hour has room again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ticketbridge.outbox.models import OutboxEmail, OutboxStatus

WINDOW = dt.timedelta(hours=1)


class RateCap:
    """Send times already booked per recipient key (`mailaddress.cap_key`, so `a+x@` and `A@`
    count as `a@`), read in one query for a whole batch of emails.

    A fetcher batch queues hundreds of receipts; one query per recipient would cost a round
    trip each. Only the `cap` latest send times of each recipient matter, so the query keeps
    those, and every slot handed out is booked here, so two emails to one address in the same
    batch count against each other exactly as if they had been queued one after the other.
    """

    def __init__(
        self, session: Session, recipient_keys: Iterable[str], cap: int, now: dt.datetime
    ) -> None:
        self.cap = cap
        self.now = now
        self._booked: dict[str, list[dt.datetime]] = {}
        wanted = sorted(set(recipient_keys))
        if cap <= 0 or not wanted:
            return
        rank = (
            func.row_number()
            .over(
                partition_by=OutboxEmail.recipient_key, order_by=OutboxEmail.next_attempt_at.desc()
            )
            .label("rank")
        )
        latest = (
            select(OutboxEmail.recipient_key, OutboxEmail.next_attempt_at, rank)
            .where(
                OutboxEmail.recipient_key.in_(wanted),
                OutboxEmail.status != OutboxStatus.FAILED,
                OutboxEmail.next_attempt_at > now - WINDOW,
            )
            .subquery()
        )
        for recipient, at in session.execute(
            select(latest.c.recipient_key, latest.c.next_attempt_at).where(latest.c.rank <= cap)
        ).tuples():
            self._booked.setdefault(recipient, []).append(at)

    def book(self, recipient_key: str) -> dt.datetime:
        """When the next email to `recipient_key` may go, so no hour holds more than `cap` of them.

        With `cap` or more emails scheduled in the last hour and after, the new one waits one
        window after the cap-th latest.
        """
        if self.cap <= 0:
            return self.now
        booked = sorted(self._booked.get(recipient_key, []), reverse=True)
        slot = self.now if len(booked) < self.cap else max(self.now, booked[self.cap - 1] + WINDOW)
        self._booked[recipient_key] = sorted([*booked, slot], reverse=True)[: self.cap]
        return slot
