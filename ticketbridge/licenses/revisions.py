"""License revisions: which change a ticket made, and whether the customer's server has it yet.

No helpdesk knows whether its answer reached the customer's server. Here every change a
ticket's step makes raises the license's `revision` and leaves a wait row for that ticket;
the sync API (R16) records the revision each server fetched and settles the waits it covers,
so the ticket can say "applied on your server" and a workflow can wait for it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.licenses.models import License, LicenseSyncWait


def mark_changed(
    session: Session, license: License, *, ticket_id: int | None, now: dt.datetime
) -> int:
    """Count one more revision of `license`; the ticket (if any) waits for the server to fetch it.

    A ticket has at most one unsettled wait: a further change moves it to the newer revision,
    so the ticket hears once, when the server has all of its changes."""
    license.revision = (license.revision or 0) + 1
    if ticket_id is not None:
        waiting = session.scalars(
            select(LicenseSyncWait).where(
                LicenseSyncWait.ticket_id == ticket_id, LicenseSyncWait.synced_at.is_(None)
            )
        ).one_or_none()
        if waiting is None:
            session.add(
                LicenseSyncWait(
                    license_id=license.id,
                    ticket_id=ticket_id,
                    revision=license.revision,
                    changed_at=now,
                )
            )
        else:
            waiting.license_id, waiting.revision = license.id, license.revision
    session.flush()
    return license.revision


def record_fetch(session: Session, license: License, now: dt.datetime) -> list[LicenseSyncWait]:
    """The server fetched the license as it is now: note the revision and settle the waits it
    covers; returns them (the caller tells their tickets). Nothing is written when nothing
    changed since the last fetch, so the common unchanged poll stays a read."""
    if license.synced_revision == license.revision:
        return []
    license.synced_revision, license.synced_at = license.revision, now
    settled = list(
        session.scalars(
            select(LicenseSyncWait)
            .where(
                LicenseSyncWait.license_id == license.id,
                LicenseSyncWait.revision <= license.revision,
                LicenseSyncWait.synced_at.is_(None),
            )
            .order_by(LicenseSyncWait.id)
        )
    )
    for wait in settled:
        wait.synced_at = now
    session.flush()
    return settled
