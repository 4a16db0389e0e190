"""Store fetched emails on tickets: the inbound pipeline, one batch per transaction.

Each message runs in a SAVEPOINT of the batch's transaction. One that fails is rolled back
alone and quarantined (raw bytes and the error kept for staff), and the batch carries on,
so a poison message never blocks the ones behind it. The caller commits the batch together
with the mailbox cursor, so a crash keeps both or neither; the dedupe key (unique per
mailbox) makes a re-fetch after any other failure store nothing twice.

What happens to a message:
- already stored (same dedupe key), or our own email come back: nothing, or an ignored row;
- a bounce of one of our emails: a hard one marks that email failed;
- automatic mail (auto-reply, bounce, complaint) on a ticket: recorded on it, never answered,
  never moving the workflow; without a ticket it is kept for staff only;
- a human reply to an open ticket: its new text joins the ticket and fires customer_reply;
- a human mail to a closed ticket, or to none: a new general request (linked to the closed
  one) with a receipt answering the mail, unless `unmatched_mail = "ignore"`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.intake.email.attachments import store_attachments
from ticketbridge.intake.email.dedupe import dedupe_key, hash_key, message_id_key, stable_hash
from ticketbridge.intake.email.loops import Automation, classify
from ticketbridge.intake.email.parse import ParsedEmail, parse_message
from ticketbridge.intake.email.reply import extract_reply
from ticketbridge.intake.email.requests import open_general_request
from ticketbridge.intake.email.threading import find_ticket
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus
from ticketbridge.outbox.service import mark_bounced, queue_email
from ticketbridge.tickets.models import Direction, Message, Ticket
from ticketbridge.tickets.timeline import record

if TYPE_CHECKING:
    from ticketbridge.services import Services

log = logging.getLogger(__name__)
RECEIPT_TEMPLATE = "general_received"
MAX_NOTE = 2000


@dataclass(frozen=True)
class FetchedMail:
    folder: str
    uid: int
    raw: bytes


@dataclass(frozen=True)
class Outcome:
    uid: int
    status: InboundStatus
    ticket_id: int | None
    note: str


@dataclass(frozen=True)
class _Stored:
    status: InboundStatus
    kind: str
    ticket: Ticket | None
    message: Message | None
    note: str


class Ingestor:
    """Stores the messages of one mailbox; `after_message` is a test seam called after each one."""

    def __init__(self, services: Services, mailbox: str, *, after_message: Callable[[FetchedMail], None] | None = None) -> None:
        self.services = services
        self.mailbox = mailbox
        self.after_message = after_message

    def ingest(self, session: Session, mails: Sequence[FetchedMail], now: dt.datetime) -> list[Outcome]:
        """Store `mails` in the caller's transaction; the caller commits.

        The batch is first tried in one SAVEPOINT; only when some message fails is it rolled
        back and run again with a SAVEPOINT per message, which finds and quarantines the
        culprit. Mail is mostly well-formed, so the common case pays one savepoint, not one
        per message.
        """
        parsed = [parse_message(mail.raw) for mail in mails]
        hashes = [stable_hash(mail.raw) for mail in mails]
        known = self._known_keys(session, parsed, hashes)
        stored_before, hooks = dict(known), list(session.info.get("after_commit", []))
        try:
            with session.begin_nested():
                outcomes = [self._ingest_one(session, *item, known, now) for item in zip(mails, parsed, hashes)]
        except Exception:  # noqa: BLE001 - retried one message at a time just below
            known.clear()
            known.update(stored_before)
            session.info["after_commit"] = hooks
            outcomes = [self._ingest_alone(session, *item, known, now) for item in zip(mails, parsed, hashes)]
        if self.after_message is not None:
            for mail in mails:
                self.after_message(mail)
        return outcomes

    def _ingest_alone(self, session: Session, mail: FetchedMail, email: ParsedEmail, content_hash: str, known: dict[str, str], now: dt.datetime) -> Outcome:
        hooks = list(session.info.get("after_commit", []))
        try:
            with session.begin_nested():
                return self._ingest_one(session, mail, email, content_hash, known, now)
        except Exception as exc:  # noqa: BLE001 - any failure quarantines this message only
            session.info["after_commit"] = hooks
            return self._quarantine(session, mail, email, content_hash, known, exc, now)

    def _known_keys(self, session: Session, parsed: Sequence[ParsedEmail], hashes: Sequence[str]) -> dict[str, str]:
        """Dedupe keys of this batch already stored in the mailbox, with their content hashes: one query."""
        keys = [message_id_key(p.message_id) for p in parsed if p.message_id] + [hash_key(h) for h in hashes]
        rows = session.execute(
            select(InboundEmail.dedupe_key, InboundEmail.content_hash).where(InboundEmail.mailbox == self.mailbox, InboundEmail.dedupe_key.in_(keys))
        ).tuples()
        return {key: content_hash for key, content_hash in rows}

    def _ingest_one(self, session: Session, mail: FetchedMail, email: ParsedEmail, content_hash: str, known: dict[str, str], now: dt.datetime) -> Outcome:
        key = dedupe_key(email.message_id, content_hash, known)
        if key is None:
            return Outcome(mail.uid, InboundStatus.DUPLICATE, None, "already stored")
        own_id = email.message_id if key == message_id_key(email.message_id or "") else None
        stored = self._store(session, email, own_id, content_hash, now)
        row = InboundEmail(
            mailbox=self.mailbox,
            folder=mail.folder,
            uid=mail.uid,
            dedupe_key=key,
            header_message_id=email.message_id,
            content_hash=content_hash,
            status=stored.status,
            kind=stored.kind,
            note=stored.note,
            raw=mail.raw,
            received_at=now,
        )
        row.ticket, row.message = stored.ticket, stored.message
        session.add(row)
        known[key] = content_hash
        return Outcome(mail.uid, stored.status, stored.ticket.id if stored.ticket is not None else None, stored.note)

    def _store(self, session: Session, email: ParsedEmail, message_id: str | None, content_hash: str, now: dt.datetime) -> _Stored:
        """`message_id` is the header's, unless absent or reused: then one is made from the content hash."""
        automation = classify(email)
        existing = self._existing_message(session, message_id)
        message_id = message_id or f"<{content_hash[:40]}@inbound.ticketbridge>"
        if existing is not None:
            own = existing.direction == Direction.OUTBOUND
            note = "our own email, come back" if own else f"already on {existing.ticket.reference} (through another mailbox)"
            return _Stored(InboundStatus.IGNORED if own else InboundStatus.DUPLICATE, automation.kind, existing.ticket, None, note)
        if automation.kind != "human":
            return self._store_automatic(session, email, automation, message_id, now)
        match = find_ticket(session, self.services.links, email)
        if match is not None and not match.ticket.is_closed:
            message = self._add_message(session, match.ticket, email, message_id, now)
            record(session, match.ticket, actor=f"customer:{email.from_address}", kind="email_received", summary=f"Email from {email.from_address}: {email.subject}", payload={"message_id": message.message_id, "matched_by": match.rule}, now=now)
            self.services.engine.customer_replied(session, match.ticket, now=now, message_id=message.message_id)
            return _Stored(InboundStatus.STORED, "human", match.ticket, message, f"reply matched by {match.rule}")
        follows = match.ticket if match is not None else None
        if self.services.settings.unmatched_mail == "ignore" or not email.from_address:
            why = "no sender address" if email.from_address == "" else "unmatched_mail = ignore"
            return _Stored(InboundStatus.IGNORED, "human", follows, None, f"matches no open ticket; kept for staff ({why})")
        return self._open_request(session, email, message_id, follows, now)

    def _store_automatic(self, session: Session, email: ParsedEmail, automation: Automation, message_id: str, now: dt.datetime) -> _Stored:
        """Auto-replies, bounces and complaints: recorded, never answered, never moving a workflow."""
        ticket = None
        if automation.kind == "bounce" and automation.original_message_id:
            ticket = mark_bounced(session, automation.original_message_id, hard=automation.bounce_kind == "hard", status=automation.status, now=now)
        if ticket is None:
            match = find_ticket(session, self.services.links, email)
            ticket = match.ticket if match is not None else None
        if ticket is None:
            return _Stored(InboundStatus.IGNORED, automation.kind, None, None, f"{automation.kind} on no ticket ({automation.reason})")
        message = self._add_message(session, ticket, email, message_id, now)
        record(session, ticket, actor="system", kind=f"{automation.kind}_received", summary=f"{automation.kind.capitalize()} from {email.from_address or 'unknown sender'}: {email.subject} ({automation.reason})", payload={"message_id": message.message_id, "reason": automation.reason, "status": automation.status}, now=now)
        return _Stored(InboundStatus.STORED, automation.kind, ticket, message, automation.reason)

    def _open_request(self, session: Session, email: ParsedEmail, message_id: str, follows: Ticket | None, now: dt.datetime) -> _Stored:
        ticket = open_general_request(
            session, self.services, sender=email.from_address, sender_name=email.from_name, subject=_text(email.subject), description=_reply_text(email), now=now, follows=follows
        )
        message = self._add_message(session, ticket, email, message_id, now)
        if follows is not None:
            record(session, follows, actor=f"customer:{email.from_address}", kind="reply_after_close", summary=f"Reply after closing; it opened {ticket.reference}", payload={"ticket": ticket.reference, "message_id": message.message_id}, now=now)
            record(session, ticket, actor="system", kind="follows", summary=f"Follows up the closed ticket {follows.reference}", payload={"ticket": follows.reference}, now=now)
        record(session, ticket, actor=f"customer:{email.from_address}", kind="email_received", summary=f"Email from {email.from_address}: {email.subject}", payload={"message_id": message.message_id}, now=now)
        queue_email(session, self.services, ticket=ticket, template=RECEIPT_TEMPLATE, now=now, context={"related_reference": follows.reference if follows else None})
        note = f"opened {ticket.reference}" + (f" following closed {follows.reference}" if follows else "")
        return _Stored(InboundStatus.STORED, "human", ticket, message, note)

    def _add_message(self, session: Session, ticket: Ticket, email: ParsedEmail, message_id: str, now: dt.datetime) -> Message:
        message = Message(
            ticket=ticket,
            direction=Direction.INBOUND,
            message_id=message_id,
            in_reply_to=email.in_reply_to,
            references=" ".join(email.references) or None,
            subject=_text(email.subject),
            from_address=email.from_address,
            to_addresses=", ".join(dict.fromkeys([*email.to, *email.cc])),
            text_body=_reply_text(email),
            html_body=_text(email.html) if email.html else None,
            attachments=store_attachments(self.services.settings.instance_path, email.attachments),
            created_at=now,
        )
        session.add(message)
        return message

    @staticmethod
    def _existing_message(session: Session, message_id: str | None) -> Message | None:
        if not message_id:
            return None
        return session.scalars(select(Message).where(Message.message_id == message_id)).one_or_none()

    def _quarantine(
        self, session: Session, mail: FetchedMail, email: ParsedEmail, content_hash: str, known: dict[str, str], error: Exception, now: dt.datetime
    ) -> Outcome:
        """Keep the message and why it failed, for staff; it is never fetched again."""
        log.warning("quarantined %s uid %s: %s", mail.folder, mail.uid, type(error).__name__, exc_info=error)
        key = dedupe_key(email.message_id, content_hash, known) or hash_key(content_hash)
        note = f"{type(error).__name__}: {error}"[:MAX_NOTE]
        with session.begin_nested():
            session.add(
                InboundEmail(
                    mailbox=self.mailbox,
                    folder=mail.folder,
                    uid=mail.uid,
                    dedupe_key=key,
                    header_message_id=email.message_id,
                    content_hash=content_hash,
                    status=InboundStatus.QUARANTINED,
                    kind="",
                    note=note,
                    raw=mail.raw,
                    received_at=now,
                )
            )
        known[key] = content_hash
        return Outcome(mail.uid, InboundStatus.QUARANTINED, None, note)


def _reply_text(email: ParsedEmail) -> str:
    """The new text staff see; the whole text when nothing new stands above the quote."""
    return _text(extract_reply(email.text, email.html) or email.text.strip())


def _text(value: str) -> str:
    """Drop NUL characters: PostgreSQL text refuses them, and no mail client shows them."""
    return value.replace("\x00", "")
