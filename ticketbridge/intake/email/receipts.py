"""Whether a mail that opened a request gets a receipt: the sender's wish, then a cap per sender.

The loop headers (intake.email.loops) catch the robots that say they are robots. One that does
not — an autoresponder that answers our receipt with a new subject and no threading headers —
would open a request, get a receipt, answer it, and so on. The per-sender cap ends that: after
`receipt_cap_per_sender_per_hour` receipts to one address within an hour, further requests
from it still open (nothing is lost, staff see them) but get no receipt, and the ticket says
why. Unlike the outbox's per-recipient cap, which only delays mail, this one withholds it: a
loop that is delayed still goes round.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ticketbridge.outbox.models import OutboxEmail

WINDOW = dt.timedelta(hours=1)


class ReceiptCap:
    """Receipts already sent to each sender of a batch in the last hour, read in one query."""

    def __init__(
        self,
        session: Session,
        template: str,
        senders: Iterable[str],
        cap: int,
        now: dt.datetime,
    ) -> None:
        self.cap = cap
        self._sent: Counter[str] = Counter()
        wanted = sorted({sender for sender in senders if sender})
        if cap <= 0 or not wanted:
            return
        rows = session.execute(
            select(OutboxEmail.recipient, func.count())
            .where(
                OutboxEmail.template == template,
                OutboxEmail.recipient.in_(wanted),
                OutboxEmail.created_at > now - WINDOW,
            )
            .group_by(OutboxEmail.recipient)
        ).tuples()
        self._sent.update({recipient: count for recipient, count in rows})

    def refusal(self, sender: str) -> str | None:
        """Why `sender` gets no receipt now, or None (and the receipt is counted)."""
        if self.cap <= 0:
            return None
        if self._sent[sender] >= self.cap:
            return (
                f"{sender} was sent {self.cap} receipts within the hour "
                "(receipt_cap_per_sender_per_hour); a mail loop is likely"
            )
        self._sent[sender] += 1
        return None
