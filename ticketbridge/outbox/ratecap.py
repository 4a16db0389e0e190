"""The per-recipient rate cap: a runaway workflow (or a mail loop we did not catch) cannot
flood one address. An email over the cap is not dropped, only held: it stays pending with a
later `next_attempt_at`, so the sweeper sends it when the hour has room again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.outbox.models import OutboxEmail, OutboxStatus

WINDOW = dt.timedelta(hours=1)


def earliest_slot(session: Session, recipient: str, cap: int, now: dt.datetime) -> dt.datetime:
    """When the next email to `recipient` may go so that no hour holds more than `cap` of them.

    The emails already scheduled in the last hour and after are ordered by their send time;
    with `cap` or more of them, the new one waits one window after the cap-th latest.
    """
    if cap <= 0:
        return now
    scheduled = list(
        session.scalars(
            select(OutboxEmail.next_attempt_at)
            .where(OutboxEmail.recipient == recipient, OutboxEmail.status != OutboxStatus.FAILED, OutboxEmail.next_attempt_at > now - WINDOW)
            .order_by(OutboxEmail.next_attempt_at.desc())
            .limit(cap)
        )
    )
    if len(scheduled) < cap:
        return now
    return max(now, scheduled[-1] + WINDOW)
