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
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ticketbridge.actors import SYSTEM, Actor
from ticketbridge.config import Settings
from ticketbridge.customers.models import Customer
from ticketbridge.customers.service import customers_by_email
from ticketbridge.intake.email.attachments import store_attachments
from ticketbridge.intake.email.dedupe import dedupe_key, message_id_key, raw_key
from ticketbridge.intake.email.loops import Automation, classify
from ticketbridge.intake.email.parse import ParsedEmail
from ticketbridge.intake.email.prepare import Parsed, parse_all
from ticketbridge.intake.email.receipts import ReceiptCap
from ticketbridge.intake.email.reply import extract_reply
from ticketbridge.intake.email.requests import open_general_request
from ticketbridge.intake.email.threading import ThreadIndex
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus
from ticketbridge.links import Links
from ticketbridge.outbox.compose import compose_drafts
from ticketbridge.outbox.service import Composer, EmailRequest, Outbox, mark_bounced
from ticketbridge.tickets.models import Direction, Message, Ticket
from ticketbridge.tickets.timeline import collected, record
from ticketbridge.workflow.engine import Engine

log = logging.getLogger(__name__)
RECEIPT_TEMPLATE = "general_received"
MAX_NOTE = 2000


@dataclass(frozen=True)
class FetchedMail:
    """One delivery: where it was fetched from (folder, UID, the folder's UIDVALIDITY) and its
    bytes."""

    folder: str
    uid: int
    raw: bytes
    uidvalidity: int | None = None


@dataclass(frozen=True)
class Outcome:
    uid: int
    status: InboundStatus
    ticket_id: int | None
    note: str


@dataclass(frozen=True)
class _Stored:
    """What became of one mail; `opened` when it opened `ticket`, following the closed `follows`."""

    status: InboundStatus
    kind: str
    ticket: Ticket | None
    message: Message | None
    note: str
    opened: bool = False
    follows: Ticket | None = None

    def describe(self) -> str:
        """The note for staff. It names an opened ticket, which has its reference only once
        flushed."""
        if not self.opened or self.ticket is None:
            return self.note
        return f"opened {self.ticket.reference}" + (
            f" following closed {self.follows.reference}" if self.follows else ""
        )


@dataclass(frozen=True)
class _Item:
    """One fetched mail, parsed, with its author hash (see intake.email.dedupe)."""

    mail: FetchedMail
    email: ParsedEmail
    content_hash: str

    def key(self, known: dict[str, str]) -> str | None:
        """Its dedupe key, None when it is already stored."""
        return dedupe_key(self.email.message_id, self.content_hash, self.email.content_hash, known)

    @cached_property
    def reply_text(self) -> str:
        """The new text staff see, worked out once, inside the savepoint that quarantines a
        failure."""
        return _reply_text(self.email)


@dataclass
class _Batch:
    """What a batch reads once and shares across its messages, and the receipts it queues at the
    end."""

    index: ThreadIndex
    customers: dict[str, Customer]
    receipt_cap: ReceiptCap
    receipts: list[EmailRequest] = field(default_factory=list)


class Ingestor:
    """Stores the messages of one mailbox; `after_message` is a test seam called after each one,
    `composer` composes the receipts (the fetcher's composes them in helper processes)."""

    def __init__(
        self,
        mailbox: str,
        *,
        engine: Engine,
        outbox: Outbox,
        links: Links,
        settings: Settings,
        after_message: Callable[[FetchedMail], None] | None = None,
        composer: Composer = compose_drafts,
    ) -> None:
        self.mailbox = mailbox
        self.engine = engine
        self.outbox = outbox
        self.links = links
        self.settings = settings
        self.after_message = after_message
        self.composer = composer

    def ingest(
        self,
        session: Session,
        mails: Sequence[FetchedMail],
        now: dt.datetime,
        parsed: Sequence[Parsed] | None = None,
    ) -> list[Outcome]:
        """Store `mails` in the caller's transaction; the caller commits.

        `parsed` is `parse_all` of the mails' bytes when the caller parsed them ahead (the
        fetcher does, in a helper process); otherwise they are parsed here.

        The batch is first tried in one SAVEPOINT; only when some message fails is it rolled
        back and run again with a SAVEPOINT per message, which finds and quarantines the
        culprit. Mail is mostly well-formed, so the common case pays one savepoint, not one
        per message.
        """
        pairs = parse_all([mail.raw for mail in mails]) if parsed is None else parsed
        items = [
            _Item(mail, email, content_hash)
            for mail, (email, content_hash) in zip(mails, pairs, strict=True)
        ]
        known = self._known_keys(session, items)
        stored_before = dict(known)
        try:
            with session.begin_nested():
                outcomes = self._ingest_batch(session, items, known, now)
        except Exception:  # noqa: BLE001 - retried one message at a time just below
            known.clear()
            known.update(stored_before)
            outcomes = [self._ingest_alone(session, item, known, now) for item in items]
        if self.after_message is not None:
            for mail in mails:
                self.after_message(mail)
        return outcomes

    def _ingest_alone(
        self, session: Session, item: _Item, known: dict[str, str], now: dt.datetime
    ) -> Outcome:
        try:
            with session.begin_nested():
                return self._ingest_batch(session, [item], known, now)[0]
        except Exception as exc:  # noqa: BLE001 - any failure quarantines this message only
            return self._quarantine(session, item, known, exc, now)

    def _ingest_batch(
        self, session: Session, items: Sequence[_Item], known: dict[str, str], now: dt.datetime
    ) -> list[Outcome]:
        """Store `items` with batch-wide lookups and as few flushes as the ids allow.

        The lookups (tickets, Message-IDs, customers) are read once for the batch, so the loop
        issues no query and nothing autoflushes; one flush then inserts every row and gives
        the new tickets the ids their receipts name, and the receipts are queued together.
        The inbound rows, which nothing reads back, are inserted in one executemany, and so are
        the timeline events of the batch, last.
        """
        senders = [item.email.from_address for item in items]
        batch = _Batch(
            ThreadIndex(session, self.links, [item.email for item in items]),
            customers_by_email(session, senders),
            ReceiptCap(
                session,
                RECEIPT_TEMPLATE,
                senders,
                self.settings.receipt_cap_per_sender_per_hour,
                now,
            ),
        )
        with collected(session):
            stored = [self._ingest_one(session, item, known, batch, now) for item in items]
            session.flush()
            kept = [
                self._keep(session, item, key, result, now)
                for item, (key, result) in zip(items, stored, strict=True)
                if key is not None
            ]
            if kept:
                session.execute(insert(InboundEmail), kept)
            self.outbox.queue_emails(session, batch.receipts, now, self.composer)
        return [
            Outcome(
                item.mail.uid,
                result.status,
                result.ticket.id if result.ticket is not None else None,
                result.describe(),
            )
            for item, (_, result) in zip(items, stored, strict=True)
        ]

    def _known_keys(self, session: Session, items: Sequence[_Item]) -> dict[str, str]:
        """Dedupe keys of this batch already stored in the mailbox, with their content hashes: one
        query."""
        keys = [message_id_key(i.email.message_id) for i in items if i.email.message_id] + [
            raw_key(i.email.content_hash) for i in items
        ]
        rows = session.execute(
            select(InboundEmail.dedupe_key, InboundEmail.content_hash).where(
                InboundEmail.mailbox == self.mailbox, InboundEmail.dedupe_key.in_(keys)
            )
        ).tuples()
        return {key: content_hash for key, content_hash in rows}

    def _ingest_one(
        self, session: Session, item: _Item, known: dict[str, str], batch: _Batch, now: dt.datetime
    ) -> tuple[str | None, _Stored]:
        """The dedupe key the mail is kept under (None for a duplicate) and what became of it."""
        email = item.email
        key = item.key(known)
        if key is None:
            return None, _Stored(InboundStatus.DUPLICATE, "", None, None, "already stored")
        own_id = email.message_id if key == message_id_key(email.message_id or "") else None
        known[key] = item.content_hash
        return key, self._store(session, item, own_id, batch, now)

    def _keep(
        self, session: Session, item: _Item, key: str, stored: _Stored, now: dt.datetime
    ) -> dict[str, Any]:
        """The inbound row's values, once the batch is flushed: its note names the ticket a mail
        opened."""
        if (
            stored.opened
            and stored.follows is not None
            and stored.ticket is not None
            and stored.message is not None
        ):
            record(
                session,
                stored.follows,
                actor=Actor.customer(item.email.from_address),
                kind="reply_after_close",
                summary=f"Reply after closing; it opened {stored.ticket.reference}",
                payload={
                    "ticket": stored.ticket.reference,
                    "message_id": stored.message.message_id,
                },
                now=now,
            )
        return {
            "mailbox": self.mailbox,
            "folder": item.mail.folder,
            "uid": item.mail.uid,
            "uidvalidity": item.mail.uidvalidity,
            "dedupe_key": key,
            "header_message_id": item.email.message_id,
            "content_hash": item.content_hash,
            "status": stored.status,
            "kind": stored.kind,
            "note": stored.describe(),
            "raw": item.mail.raw,
            "received_at": now,
            "ticket_id": stored.ticket.id if stored.ticket is not None else None,
            "message_row_id": stored.message.id if stored.message is not None else None,
        }

    def _store(
        self, session: Session, item: _Item, message_id: str | None, batch: _Batch, now: dt.datetime
    ) -> _Stored:
        """`message_id` is the header's, unless absent or reused: then one is made from the content
        hash."""
        email = item.email
        automation = classify(email)
        existing = batch.index.message(message_id)
        message_id = message_id or f"<{email.content_hash[:40]}@inbound.ticketbridge>"
        if existing is not None:
            own = existing.direction == Direction.OUTBOUND
            note = (
                "our own email, come back"
                if own
                else f"already on {existing.ticket.reference} (through another mailbox)"
            )
            return _Stored(
                InboundStatus.IGNORED if own else InboundStatus.DUPLICATE,
                automation.kind,
                existing.ticket,
                None,
                note,
            )
        if automation.kind != "human":
            return self._store_automatic(session, item, automation, message_id, batch, now)
        match = batch.index.find(email)
        if match is not None and (
            not match.ticket.is_closed
            or self.engine.reopen_on_reply(session, match.ticket, now=now, message_id=message_id)
        ):
            message = self._add_message(session, match.ticket, item, message_id, batch, now)
            record(
                session,
                match.ticket,
                actor=Actor.customer(email.from_address),
                kind="email_received",
                summary=f"Email from {email.from_address}: {email.subject}",
                payload={"message_id": message.message_id, "matched_by": match.rule},
                now=now,
            )
            self.engine.customer_replied(
                session, match.ticket, now=now, message_id=message.message_id
            )
            return _Stored(
                InboundStatus.STORED,
                "human",
                match.ticket,
                message,
                f"reply matched by {match.rule}",
            )
        follows = match.ticket if match is not None else None
        if self.settings.unmatched_mail == "ignore" or not email.from_address:
            why = "no sender address" if email.from_address == "" else "unmatched_mail = ignore"
            return _Stored(
                InboundStatus.IGNORED,
                "human",
                follows,
                None,
                f"matches no open ticket; kept for staff ({why})",
            )
        return self._open_request(session, item, automation, message_id, follows, batch, now)

    def _store_automatic(
        self,
        session: Session,
        item: _Item,
        automation: Automation,
        message_id: str,
        batch: _Batch,
        now: dt.datetime,
    ) -> _Stored:
        """Auto-replies, bounces and complaints: recorded, never answered, never moving a
        workflow."""
        email = item.email
        ticket = None
        if automation.kind == "bounce" and automation.original_message_id:
            ticket = mark_bounced(
                session,
                automation.original_message_id,
                hard=automation.bounce_kind == "hard",
                status=automation.status,
                now=now,
            )
        if ticket is None:
            match = batch.index.find(email)
            ticket = match.ticket if match is not None else None
        if ticket is None:
            return _Stored(
                InboundStatus.IGNORED,
                automation.kind,
                None,
                None,
                f"{automation.kind} on no ticket ({automation.reason})",
            )
        message = self._add_message(session, ticket, item, message_id, batch, now)
        record(
            session,
            ticket,
            actor=SYSTEM,
            kind=f"{automation.kind}_received",
            summary=f"{automation.kind.capitalize()} from "
            f"{email.from_address or 'unknown sender'}: {email.subject} ({automation.reason})",
            payload={
                "message_id": message.message_id,
                "reason": automation.reason,
                "status": automation.status,
            },
            now=now,
        )
        return _Stored(InboundStatus.STORED, automation.kind, ticket, message, automation.reason)

    def _open_request(
        self,
        session: Session,
        item: _Item,
        automation: Automation,
        message_id: str,
        follows: Ticket | None,
        batch: _Batch,
        now: dt.datetime,
    ) -> _Stored:
        """A new general request; its receipt is queued with the batch's others once the tickets
        have ids."""
        email = item.email
        ticket = open_general_request(
            session,
            self.engine,
            sender=email.from_address,
            sender_name=email.from_name,
            subject=_text(email.subject),
            description=item.reply_text,
            now=now,
            follows=follows,
            customers=batch.customers,
        )
        message = self._add_message(session, ticket, item, message_id, batch, now)
        if follows is not None:
            record(
                session,
                ticket,
                actor=SYSTEM,
                kind="follows",
                summary=f"Follows up the closed ticket {follows.reference}",
                payload={"ticket": follows.reference},
                now=now,
            )
        record(
            session,
            ticket,
            actor=Actor.customer(email.from_address),
            kind="email_received",
            summary=f"Email from {email.from_address}: {email.subject}",
            payload={"message_id": message.message_id},
            now=now,
        )
        withheld = automation.no_receipt or batch.receipt_cap.refusal(email.from_address)
        if withheld:
            record(
                session,
                ticket,
                actor=SYSTEM,
                kind="receipt_withheld",
                summary=f"No receipt sent: {withheld}",
                payload={"message_id": message.message_id},
                now=now,
            )
        else:
            batch.receipts.append(
                EmailRequest(
                    ticket,
                    RECEIPT_TEMPLATE,
                    {"related_reference": follows.reference if follows else None},
                )
            )
        return _Stored(
            InboundStatus.STORED, "human", ticket, message, "", opened=True, follows=follows
        )

    def _add_message(
        self,
        session: Session,
        ticket: Ticket,
        item: _Item,
        message_id: str,
        batch: _Batch,
        now: dt.datetime,
    ) -> Message:
        email = item.email
        message = Message(
            ticket=ticket,
            direction=Direction.INBOUND,
            message_id=message_id,
            in_reply_to=email.in_reply_to,
            references=" ".join(email.references) or None,
            subject=_text(email.subject),
            from_address=email.from_address,
            to_addresses=", ".join(dict.fromkeys([*email.to, *email.cc])),
            text_body=item.reply_text,
            html_body=_text(email.html) if email.html else None,
            attachments=store_attachments(self.settings.instance_path, email.attachments),
            created_at=now,
        )
        session.add(message)
        batch.index.add(message)
        return message

    def _stored(self, session: Session, key: str) -> bool:
        return (
            session.scalar(
                select(InboundEmail.id).where(
                    InboundEmail.mailbox == self.mailbox, InboundEmail.dedupe_key == key
                )
            )
            is not None
        )

    def _quarantine(
        self,
        session: Session,
        item: _Item,
        known: dict[str, str],
        error: Exception,
        now: dt.datetime,
    ) -> Outcome:
        """Keep the message and why it failed, for staff; it is never fetched again."""
        mail, email = item.mail, item.email
        log.warning(
            "quarantined %s uid %s: %s", mail.folder, mail.uid, type(error).__name__, exc_info=error
        )
        key = item.key(known) or raw_key(email.content_hash)
        if self._stored(session, key):
            # `known` can name a row its failed savepoint rolled back, and the batch lookup that
            # fills it may itself have failed: the database says what is really stored.
            known[key] = item.content_hash
            return Outcome(mail.uid, InboundStatus.DUPLICATE, None, "already stored")
        note = f"{type(error).__name__}: {error}"[:MAX_NOTE]
        with session.begin_nested():
            session.add(
                InboundEmail(
                    mailbox=self.mailbox,
                    folder=mail.folder,
                    uid=mail.uid,
                    uidvalidity=mail.uidvalidity,
                    dedupe_key=key,
                    header_message_id=email.message_id,
                    content_hash=item.content_hash,
                    status=InboundStatus.QUARANTINED,
                    kind="",
                    note=note,
                    raw=mail.raw,
                    received_at=now,
                )
            )
        known[key] = item.content_hash
        return Outcome(mail.uid, InboundStatus.QUARANTINED, None, note)


def _reply_text(email: ParsedEmail) -> str:
    """The new text staff see; the whole text when nothing new stands above the quote."""
    return _text(extract_reply(email.text, email.html, email.quote_start) or email.text.strip())


def _text(value: str) -> str:
    """Drop NUL characters: PostgreSQL text refuses them, and no mail client shows them."""
    return value.replace("\x00", "")
