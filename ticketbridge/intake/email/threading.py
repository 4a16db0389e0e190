"""Find the ticket an inbound email belongs to, by the strongest evidence first.

1. our Reply-To token address (support+LIC-000123.<mac>@) among To, Cc, Delivered-To and
   X-Original-To, with its MAC verified: a Cc'd colleague or a forward still carries it, and
   nobody can make one up for another ticket;
2. In-Reply-To, then References (newest first), against the Message-IDs stored on tickets;
3. a [LIC-000123] in the subject, but only together with a sender already known on that
   ticket, because anyone can type a reference into a subject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ticketbridge.intake.email.parse import ParsedEmail
from ticketbridge.links import Links
from ticketbridge.mailaddress import same_mailbox
from ticketbridge.tickets.models import REFERENCE_PREFIX, Direction, Message, Ticket

_SUBJECT_REFERENCE_RE = re.compile(rf"\[({REFERENCE_PREFIX}\d{{6,}})\]", re.IGNORECASE)
_ENVELOPE_HEADERS = ("delivered-to", "x-original-to")


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket
    rule: str


def recipient_addresses(parsed: ParsedEmail) -> list[str]:
    """To, Cc and the envelope recipients the delivering server recorded."""
    envelope = [
        address.lower()
        for header in _ENVELOPE_HEADERS
        for _, address in getaddresses(parsed.headers.get(header, []))
    ]
    return list(dict.fromkeys([*parsed.to, *parsed.cc, *envelope]))


@dataclass(frozen=True)
class KnownMessage:
    """A Message-ID already on a ticket, with the ticket and which way the message went."""

    ticket: Ticket
    direction: Direction


class ThreadIndex:
    """The threading lookups of a whole fetcher batch, read in two queries instead of per message.

    One query finds every Message-ID the batch names (its own, In-Reply-To, References), one
    loads every ticket those, the reply addresses and the subject references point at. A
    message stored during the batch is `add`ed, so a later mail of the same batch that
    answers it (the customer writing twice) still finds its ticket.
    """

    def __init__(self, session: Session, links: Links, emails: Iterable[ParsedEmail]) -> None:
        self.session = session
        self.links = links
        emails = list(emails)
        message_ids = {
            mid for e in emails for mid in (e.message_id, e.in_reply_to, *e.references) if mid
        }
        rows = (
            list(
                session.execute(
                    select(Message.message_id, Message.ticket_id, Message.direction).where(
                        Message.message_id.in_(message_ids)
                    )
                ).tuples()
            )
            if message_ids
            else []
        )
        references = [
            r
            for e in emails
            for r in [
                *map(links.reference_from_reply_address, recipient_addresses(e)),
                *_SUBJECT_REFERENCE_RE.findall(e.subject),
            ]
            if r
        ]
        ticket_ids = {ticket_id for _, ticket_id, _ in rows} | {
            i for i in map(Ticket.id_from_reference, references) if i is not None
        }
        tickets: Iterable[Ticket] = (
            session.scalars(
                select(Ticket).where(Ticket.id.in_(ticket_ids)).options(joinedload(Ticket.customer))
            ).unique()
            if ticket_ids
            else ()
        )
        self._tickets = {ticket.id: ticket for ticket in tickets}
        self._messages = {
            message_id: KnownMessage(self._tickets[ticket_id], direction)
            for message_id, ticket_id, direction in rows
        }

    def message(self, message_id: str | None) -> KnownMessage | None:
        return self._messages.get(message_id) if message_id else None

    def add(self, message: Message) -> None:
        self._messages[message.message_id] = KnownMessage(message.ticket, message.direction)

    def find(self, parsed: ParsedEmail) -> ThreadMatch | None:
        """The ticket `parsed` belongs to, by the strongest evidence first (see the module)."""
        return (
            self._by_reply_address(parsed)
            or self._by_message_ids(parsed)
            or self._by_subject(parsed)
        )

    def _by_reply_address(self, parsed: ParsedEmail) -> ThreadMatch | None:
        for address in recipient_addresses(parsed):
            ticket = self._ticket(self.links.reference_from_reply_address(address))
            if ticket is not None:
                return ThreadMatch(ticket, "reply address")
        return None

    def _by_message_ids(self, parsed: ParsedEmail) -> ThreadMatch | None:
        replied_to = [parsed.in_reply_to] if parsed.in_reply_to else []
        for message_id in dict.fromkeys([*replied_to, *reversed(parsed.references)]):
            known = self._messages.get(message_id)
            if known is not None:
                return ThreadMatch(known.ticket, "In-Reply-To/References")
        return None

    def _by_subject(self, parsed: ParsedEmail) -> ThreadMatch | None:
        sender = parsed.from_address
        if not sender:
            return None
        for reference in _SUBJECT_REFERENCE_RE.findall(parsed.subject):
            ticket = self._ticket(reference)
            if ticket is not None and _known_on(self.session, ticket, sender):
                return ThreadMatch(ticket, "subject reference and known sender")
        return None

    def _ticket(self, reference: str | None) -> Ticket | None:
        ticket_id = Ticket.id_from_reference(reference) if reference else None
        return self._tickets.get(ticket_id) if ticket_id is not None else None


def _known_on(session: Session, ticket: Ticket, sender: str) -> bool:
    """The customer, or anyone who wrote or was written to on the ticket before.

    Addresses are compared whole, in their stored form (`same_mailbox`), never as a pattern: a
    sender `%@%` or `o_s@…` is known nowhere, and a reference in a subject is easy to guess.
    """
    if same_mailbox(ticket.customer.email, sender):
        return True
    rows = session.execute(
        select(Message.from_address, Message.to_addresses).where(Message.ticket_id == ticket.id)
    ).tuples()
    return any(
        same_mailbox(address, sender)
        for from_address, to_addresses in rows
        for _, address in getaddresses([from_address, to_addresses])
    )
