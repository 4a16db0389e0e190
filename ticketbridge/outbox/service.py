"""Queue outgoing emails in the caller's transaction, and deliver them one claim at a time.

Delivery is at-least-once: a row is claimed with an atomic UPDATE (so two workers never send
it together), sent, then marked sent. A crash between the SMTP server's acceptance and that
mark leaves the claim to expire, and the sweeper sends the email again with the same
Message-ID, which receiving clients use to drop the duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from ticketbridge.db import Database, after_commit
from ticketbridge.errors import DeliveryError
from ticketbridge.licenses.emails import template_context
from ticketbridge.outbox.compose import Composed, Draft, compose_drafts, new_message_id
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.outbox.ratecap import RateCap
from ticketbridge.tickets.models import Direction, Message, Ticket
from ticketbridge.tickets.timeline import record

if TYPE_CHECKING:
    from ticketbridge.services import Services

CLAIM_SECONDS = 300
Composer = Callable[[Sequence[Draft]], list[Composed]]
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=6),
)


@dataclass(frozen=True)
class EmailRequest:
    """One email to queue: `template` rendered for the ticket's customer with `context` added."""

    ticket: Ticket
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


def queue_email(
    session: Session,
    services: Services,
    *,
    ticket: Ticket,
    template: str,
    now: dt.datetime,
    context: Mapping[str, Any] | None = None,
) -> OutboxEmail:
    """Render `template` for the ticket's customer and add it to the outbox; delivery starts after
    commit."""
    return queue_emails(session, services, [EmailRequest(ticket, template, context or {})], now)[0]


def queue_emails(
    session: Session,
    services: Services,
    requests: Sequence[EmailRequest],
    now: dt.datetime,
    composer: Composer = compose_drafts,
) -> list[OutboxEmail]:
    """Queue several emails with one rate-cap query, one flush and one job enqueue for them all.

    The tickets must have their ids (flushed): the reference is in the subject and Reply-To.
    `composer` turns the drafts into bytes; the fetcher passes one that composes a large
    batch in helper processes (intake.email.prepare).
    """
    if not requests:
        return []
    settings = services.settings
    cap = RateCap(
        session, [r.ticket.customer.email for r in requests], settings.mail_rate_cap_per_hour, now
    )
    drafts: list[Draft] = []
    emails: list[OutboxEmail] = []
    for request in requests:
        drafts.append(_draft(services, request, now))
        emails.append(
            _outbox_email(
                services, request, drafts[-1], cap.book(request.ticket.customer.email), now
            )
        )
    for email, composed in zip(emails, composer(drafts), strict=True):
        _fill(email, composed)
    session.add_all(emails)
    session.flush()
    for email in emails:
        _record_queued(session, email, settings.mail_rate_cap_per_hour, now)
    outbox_ids = [email.id for email in emails]
    after_commit(session, lambda: services.jobs.enqueue_many("deliver_email", outbox_ids))
    return emails


def _draft(services: Services, request: EmailRequest, now: dt.datetime) -> Draft:
    settings, ticket = services.settings, request.ticket
    reference = ticket.reference
    return Draft(
        rendered=services.renderer.render(
            request.template,
            email_context(services, ticket, request.context)
            | template_context(services, ticket, request.template),
        ),
        reference=reference,
        mail_from=settings.mail_from,
        to_address=ticket.customer.email,
        to_name=ticket.customer.name,
        reply_to=services.links.reply_address(reference),
        message_id=new_message_id(reference, settings.reply_domain),
        thread=tuple(m.message_id for m in ticket.messages),
        now=now,
    )


def _outbox_email(
    services: Services, request: EmailRequest, draft: Draft, slot: dt.datetime, now: dt.datetime
) -> OutboxEmail:
    """The rows, without what composing adds (`_fill`). The Message joins the ticket's thread at
    once, so a second email to the same ticket in the batch answers this one."""
    ticket = request.ticket
    message = Message(
        ticket=ticket,
        direction=Direction.OUTBOUND,
        message_id=draft.message_id,
        from_address=services.settings.mail_from,
        to_addresses=ticket.customer.email,
        text_body=draft.rendered.text,
        html_body=draft.rendered.html,
        created_at=now,
    )
    return OutboxEmail(
        message=message,
        template=request.template,
        recipient=ticket.customer.email,
        next_attempt_at=slot,
        created_at=now,
    )


def _fill(email: OutboxEmail, composed: Composed) -> None:
    email.raw = composed.raw
    email.message.subject, email.message.in_reply_to, email.message.references = (
        composed.subject,
        composed.in_reply_to,
        composed.references,
    )


def _record_queued(session: Session, email: OutboxEmail, cap: int, now: dt.datetime) -> None:
    ticket, slot = email.message.ticket, email.next_attempt_at
    record(
        session,
        ticket,
        actor="system",
        kind="email_queued",
        summary=f"Email “{email.message.subject}” queued to {email.recipient}",
        payload={"template": email.template, "outbox_id": email.id},
        now=now,
    )
    if slot > now:
        record(
            session,
            ticket,
            actor="system",
            kind="email_held",
            summary=f"Email held until {slot:%Y-%m-%d %H:%M} UTC: {email.recipient} reached "
            f"the cap of {cap} emails per hour",
            payload={"outbox_id": email.id, "until": slot.isoformat()},
            now=now,
        )


EMAIL_CONTEXT_VARIABLES = frozenset(
    {"ticket", "customer", "license", "form", "ticket_url", "support_url"}
)
"""What every email template sees (`email_context`); `workflows check` resolves templates
against it."""


def email_context(services: Services, ticket: Ticket, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "customer": ticket.customer,
        "license": ticket.license,
        "form": ticket.form_data,
        "ticket_url": services.links.ticket_url(ticket.id),
        "support_url": f"{services.links.public_url}/support",
        **extra,
    }


def deliver(services: Services, outbox_id: int, now: dt.datetime) -> OutboxStatus | None:
    """Send one outbox email if it is due and unclaimed; safe to call any number of times."""
    db: Database = services.db
    if not _claim(db, outbox_id, now):
        return None
    with db.transaction() as session:
        email = session.get_one(OutboxEmail, outbox_id)
        sender, recipient, raw, name = (
            services.settings.mail_from,
            email.recipient,
            email.raw,
            f"{email.id:08d}-{email.template}",
        )
    try:
        services.sender.send(sender=sender, recipient=recipient, raw=raw, name=name)
    except DeliveryError as exc:
        return _record_failure(services, outbox_id, exc, now)
    with db.transaction() as session:
        email = session.get_one(OutboxEmail, outbox_id)
        email.status, email.sent_at, email.claimed_until, email.attempts = (
            OutboxStatus.SENT,
            now,
            None,
            email.attempts + 1,
        )
        record(
            session,
            email.message.ticket,
            actor="system",
            kind="email_sent",
            summary=f"Email sent to {email.recipient}",
            payload={"outbox_id": email.id},
            now=now,
        )
    return OutboxStatus.SENT


def _claim(db: Database, outbox_id: int, now: dt.datetime) -> bool:
    with db.transaction() as session:
        claimed = cast(
            CursorResult[Any],
            session.execute(
                update(OutboxEmail)
                .where(
                    OutboxEmail.id == outbox_id,
                    OutboxEmail.status == OutboxStatus.PENDING,
                    OutboxEmail.next_attempt_at <= now,
                )
                .values(
                    status=OutboxStatus.SENDING,
                    claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                )
            ),
        )
        return claimed.rowcount == 1


def _record_failure(
    services: Services, outbox_id: int, error: DeliveryError, now: dt.datetime
) -> OutboxStatus:
    with services.db.transaction() as session:
        email = session.get_one(OutboxEmail, outbox_id)
        email.attempts += 1
        email.last_error = error.message
        email.claimed_until = None
        final = error.permanent or email.attempts > len(RETRY_DELAYS)
        if final:
            email.status = OutboxStatus.FAILED
        else:
            email.status = OutboxStatus.PENDING
            email.next_attempt_at = now + RETRY_DELAYS[email.attempts - 1]
        record(
            session,
            email.message.ticket,
            actor="system",
            kind="email_failed" if final else "email_retry",
            summary=f"Email to {email.recipient} {'failed' if final else 'will be retried'}: "
            f"{error.message}",
            payload={"outbox_id": email.id, "attempts": email.attempts},
            now=now,
        )
        return email.status


def mark_bounced(
    session: Session, message_id: str, *, hard: bool, status: str | None, now: dt.datetime
) -> Ticket | None:
    """A bounce came back for our email `message_id`: a hard one fails it, so staff see it.

    Returns the email's ticket (None when the Message-ID is not one of our outbox emails). A
    soft bounce (a delay warning) only goes on the timeline: the server is still trying.
    """
    email = session.scalars(
        select(OutboxEmail).join(OutboxEmail.message).where(Message.message_id == message_id)
    ).one_or_none()
    if email is None:
        return None
    ticket = email.message.ticket
    detail = f" ({status})" if status else ""
    if hard:
        email.status, email.claimed_until = OutboxStatus.FAILED, None
        email.last_error = f"bounced{detail}"
    record(
        session,
        ticket,
        actor="system",
        kind="email_bounced" if hard else "email_delayed",
        summary=f"Email to {email.recipient} {'bounced' if hard else 'is delayed'}{detail}",
        payload={"outbox_id": email.id, "status": status},
        now=now,
    )
    return ticket


def due_emails(session: Session, now: dt.datetime) -> list[int]:
    """Pending emails that are due, and claims that expired (a worker died mid-send)."""
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_until < now)
        .values(status=OutboxStatus.PENDING, claimed_until=None)
    )
    return list(
        session.scalars(
            select(OutboxEmail.id).where(
                OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now
            )
        )
    )
