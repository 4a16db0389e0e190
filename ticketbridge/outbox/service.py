"""Queue outgoing emails in the caller's transaction, and deliver them in claimed batches.

Delivery is at-least-once: rows are claimed with one atomic UPDATE (so two workers never send
one together), sent, then marked sent, each step in a transaction the delivery job owns. A crash
between the SMTP server's acceptance and that mark leaves the claim to expire, and the sweeper
sends the email again with the same Message-ID, which receiving clients use to drop the
duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from ticketbridge.actors import SYSTEM, Actor
from ticketbridge.config import Settings
from ticketbridge.db import after_commit
from ticketbridge.errors import Conflict, DeliveryError, NotFound
from ticketbridge.links import Links
from ticketbridge.mailaddress import cap_key
from ticketbridge.outbox.compose import Composed, Draft, compose_drafts, new_message_id
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.outbox.ratecap import RateCap
from ticketbridge.outbox.render import TemplateRenderer
from ticketbridge.tickets.models import Direction, Message, Ticket
from ticketbridge.tickets.timeline import record

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
class Addressee:
    """`customer` in an email template: the ticket's own customer name, and where it goes."""

    name: str
    email: str


@dataclass(frozen=True)
class EmailRequest:
    """One email to queue: `template` rendered for the ticket's customer with `context` added."""

    ticket: Ticket
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


EMAIL_CONTEXT_VARIABLES = frozenset(
    {"ticket", "customer", "license", "form", "ticket_url", "support_url"}
)
"""What every email template sees (`Outbox.email_context`); `workflows check` resolves templates
against it."""


class DeliveryQueue(Protocol):
    """Where the ids of queued emails go once the transaction commits (the job queue)."""

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None: ...


class Outbox:
    """Renders and queues emails in the caller's transaction; one per process, built by the
    runtime from the settings, templates, links and job queue it needs."""

    def __init__(
        self, settings: Settings, renderer: TemplateRenderer, links: Links, jobs: DeliveryQueue
    ) -> None:
        self.settings = settings
        self.renderer = renderer
        self.links = links
        self.jobs = jobs

    def queue_email(
        self,
        session: Session,
        *,
        ticket: Ticket,
        template: str,
        now: dt.datetime,
        context: Mapping[str, Any] | None = None,
    ) -> OutboxEmail:
        """Render `template` for the ticket's customer and add it to the outbox; delivery starts
        after commit."""
        return self.queue_emails(session, [EmailRequest(ticket, template, context or {})], now)[0]

    def queue_emails(
        self,
        session: Session,
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
        cap_per_hour = self.settings.mail_rate_cap_per_hour
        keys = [cap_key(r.ticket.customer.email) for r in requests]
        cap = RateCap(session, keys, cap_per_hour, now)
        drafts: list[Draft] = []
        emails: list[OutboxEmail] = []
        for request in requests:
            drafts.append(self._draft(request, now))
            emails.append(self._outbox_email(request, drafts[-1], cap, now))
        for email, composed in zip(emails, composer(drafts), strict=True):
            _fill(email, composed)
        session.add_all(emails)
        session.flush()
        for email in emails:
            _record_queued(session, email, cap_per_hour, now)
        outbox_ids = [email.id for email in emails]
        jobs = self.jobs
        after_commit(session, lambda: jobs.enqueue_many("deliver_email", outbox_ids))
        return emails

    def email_context(self, ticket: Ticket, extra: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "ticket": ticket,
            "customer": Addressee(name=ticket.customer_name, email=ticket.customer.email),
            "license": ticket.license,
            "form": ticket.form_data,
            "ticket_url": self.links.ticket_url(ticket.id),
            "support_url": f"{self.links.public_url}/support",
            **extra,
        }

    def _draft(self, request: EmailRequest, now: dt.datetime) -> Draft:
        settings, ticket = self.settings, request.ticket
        reference = ticket.reference
        return Draft(
            rendered=self.renderer.render(
                request.template, self.email_context(ticket, request.context)
            ),
            reference=reference,
            mail_from=settings.mail_from,
            to_address=ticket.customer.email,
            to_name=ticket.customer_name,
            reply_to=self.links.reply_address(reference),
            message_id=new_message_id(reference, settings.reply_domain),
            thread=tuple(m.message_id for m in ticket.messages),
            now=now,
        )

    def _outbox_email(
        self, request: EmailRequest, draft: Draft, cap: RateCap, now: dt.datetime
    ) -> OutboxEmail:
        """The rows, without what composing adds (`_fill`). The Message joins the ticket's thread
        at once, so a second email to the same ticket in the batch answers this one. The cap
        counts by `cap_key`; the email goes to the exact address."""
        ticket = request.ticket
        recipient_key = cap_key(ticket.customer.email)
        message = Message(
            ticket=ticket,
            direction=Direction.OUTBOUND,
            message_id=draft.message_id,
            from_address=self.settings.mail_from,
            to_addresses=ticket.customer.email,
            text_body=draft.rendered.text,
            html_body=draft.rendered.html,
            created_at=now,
        )
        return OutboxEmail(
            message=message,
            template=request.template,
            recipient=ticket.customer.email,
            recipient_key=recipient_key,
            next_attempt_at=cap.book(recipient_key),
            created_at=now,
        )


def _fill(email: OutboxEmail, composed: Composed) -> None:
    """Add the composed bytes; an email refused as unsafe to write is failed at once, so it is
    never sent and staff see why."""
    email.raw = composed.raw
    email.message.subject, email.message.in_reply_to, email.message.references = (
        composed.subject,
        composed.in_reply_to,
        composed.references,
    )
    if composed.refused is not None:
        email.status, email.last_error = OutboxStatus.FAILED, composed.refused


def _record_queued(session: Session, email: OutboxEmail, cap: int, now: dt.datetime) -> None:
    ticket, slot = email.message.ticket, email.next_attempt_at
    record(
        session,
        ticket,
        actor=SYSTEM,
        kind="email_queued",
        summary=f"Email “{email.message.subject}” queued to {email.recipient}",
        payload={"template": email.template, "outbox_id": email.id},
        now=now,
    )
    if email.status is OutboxStatus.FAILED:
        record(
            session,
            ticket,
            actor=SYSTEM,
            kind="email_failed",
            summary=f"Email to {email.recipient} failed: {email.last_error}",
            payload={"outbox_id": email.id, "attempts": 0},
            now=now,
        )
    elif slot > now:
        record(
            session,
            ticket,
            actor=SYSTEM,
            kind="email_held",
            summary=f"Email held until {slot:%Y-%m-%d %H:%M} UTC: {email.recipient} reached "
            f"the cap of {cap} emails per hour",
            payload={"outbox_id": email.id, "until": slot.isoformat()},
            now=now,
        )


@dataclass(frozen=True)
class Letter:
    """A claimed email, as the sender needs it; read inside the claim's transaction."""

    outbox_id: int
    recipient: str
    raw: bytes = field(repr=False)
    name: str


def claim(
    session: Session,
    now: dt.datetime,
    *,
    ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> list[Letter]:
    """Claim due, pending emails (those of `ids`, or any, oldest first, at most `limit`) with one
    atomic UPDATE; the ones returned are ours.

    The caller commits the claims before sending, so two workers never send the same row. Rows
    another worker's claim is still writing are skipped (PostgreSQL's SKIP LOCKED), not waited
    for: that worker sends them.
    """
    due = (
        select(OutboxEmail.id)
        .where(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        due = due.where(OutboxEmail.id.in_(ids))
    rows = session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id.in_(due.scalar_subquery()),
            OutboxEmail.status == OutboxStatus.PENDING,
        )
        .values(
            status=OutboxStatus.SENDING,
            claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
        )
        .returning(OutboxEmail.id, OutboxEmail.recipient, OutboxEmail.raw, OutboxEmail.template),
        execution_options={"synchronize_session": False},
    )
    letters = [Letter(id_, to, raw, f"{id_:08d}-{template}") for id_, to, raw, template in rows]
    return sorted(letters, key=lambda letter: letter.outbox_id)


def record_results(
    session: Session,
    sent: Sequence[int],
    failed: Mapping[int, DeliveryError],
    now: dt.datetime,
) -> dict[int, OutboxStatus]:
    """Write what the SMTP server said about a batch of claimed emails: the sent ones marked
    sent, the others retried with back-off or failed for good; each with its timeline event.
    One query loads every email with its ticket."""
    emails = session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.id.in_([*sent, *failed]))
        .options(joinedload(OutboxEmail.message).joinedload(Message.ticket))
    ).all()
    statuses = {}
    for email in emails:
        error = failed.get(email.id)
        statuses[email.id] = (
            _mark_sent(session, email, now)
            if error is None
            else _record_failure(session, email, error, now)
        )
    return statuses


def _mark_sent(session: Session, email: OutboxEmail, now: dt.datetime) -> OutboxStatus:
    email.status, email.sent_at, email.claimed_until, email.attempts = (
        OutboxStatus.SENT,
        now,
        None,
        email.attempts + 1,
    )
    record(
        session,
        email.message.ticket,
        actor=SYSTEM,
        kind="email_sent",
        summary=f"Email sent to {email.recipient}",
        payload={"outbox_id": email.id},
        now=now,
    )
    return email.status


def _record_failure(
    session: Session, email: OutboxEmail, error: DeliveryError, now: dt.datetime
) -> OutboxStatus:
    """Count a failed attempt: retried with back-off, or failed for good (permanent, too many)."""
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
        actor=SYSTEM,
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
        actor=SYSTEM,
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


def retry_failed(
    session: Session, jobs: DeliveryQueue, outbox_id: int, *, actor: Actor, now: dt.datetime
) -> OutboxEmail:
    """Staff send a failed email again once its cause is fixed: it is pending from now, with
    the same Message-ID, and its delivery job is enqueued after the commit."""
    email = session.get(OutboxEmail, outbox_id, with_for_update=True)
    if email is None:
        raise NotFound(f"no outbox email {outbox_id}")
    if email.status != OutboxStatus.FAILED:
        raise Conflict(f"outbox email {outbox_id} is {email.status.value}, not failed")
    email.status, email.next_attempt_at, email.claimed_until = OutboxStatus.PENDING, now, None
    record(
        session,
        email.message.ticket,
        actor=actor,
        kind="email_retry",
        summary=f"Email to {email.recipient} queued again after: {email.last_error}",
        payload={"outbox_id": email.id},
        now=now,
    )
    after_commit(session, lambda: jobs.enqueue_many("deliver_email", [outbox_id]))
    return email
