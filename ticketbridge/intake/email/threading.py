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
from dataclasses import dataclass
from email.utils import getaddresses

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ticketbridge.intake.email.parse import ParsedEmail
from ticketbridge.links import Links
from ticketbridge.tickets.models import REFERENCE_PREFIX, Message, Ticket

_SUBJECT_REFERENCE_RE = re.compile(rf"\[({REFERENCE_PREFIX}\d{{6,}})\]", re.IGNORECASE)
_ENVELOPE_HEADERS = ("delivered-to", "x-original-to")


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket
    rule: str


def recipient_addresses(parsed: ParsedEmail) -> list[str]:
    """To, Cc and the envelope recipients the delivering server recorded."""
    envelope = [address.lower() for header in _ENVELOPE_HEADERS for _, address in getaddresses(parsed.headers.get(header, []))]
    return list(dict.fromkeys([*parsed.to, *parsed.cc, *envelope]))


def find_ticket(session: Session, links: Links, parsed: ParsedEmail) -> ThreadMatch | None:
    return (
        _by_reply_address(session, links, parsed)
        or _by_message_ids(session, parsed)
        or _by_subject(session, parsed)
    )


def _by_reply_address(session: Session, links: Links, parsed: ParsedEmail) -> ThreadMatch | None:
    for address in recipient_addresses(parsed):
        reference = links.reference_from_reply_address(address)
        ticket = _ticket(session, reference)
        if ticket is not None:
            return ThreadMatch(ticket, "reply address")
    return None


def _by_message_ids(session: Session, parsed: ParsedEmail) -> ThreadMatch | None:
    replied_to = [parsed.in_reply_to] if parsed.in_reply_to else []
    candidates = list(dict.fromkeys([*replied_to, *reversed(parsed.references)]))
    if not candidates:
        return None
    rows = session.execute(select(Message.message_id, Message.ticket_id).where(Message.message_id.in_(candidates))).tuples()
    found = {message_id: ticket_id for message_id, ticket_id in rows}
    for message_id in candidates:
        if message_id in found:
            return ThreadMatch(session.get_one(Ticket, found[message_id]), "In-Reply-To/References")
    return None


def _by_subject(session: Session, parsed: ParsedEmail) -> ThreadMatch | None:
    sender = parsed.from_address
    if not sender:
        return None
    for reference in _SUBJECT_REFERENCE_RE.findall(parsed.subject):
        ticket = _ticket(session, reference)
        if ticket is not None and _known_on(session, ticket, sender):
            return ThreadMatch(ticket, "subject reference and known sender")
    return None


def _known_on(session: Session, ticket: Ticket, sender: str) -> bool:
    """The customer, or anyone who wrote or was written to on the ticket before."""
    if ticket.customer.email == sender:
        return True
    pattern = f"%{sender}%"
    known = select(Message.id).where(Message.ticket_id == ticket.id, or_(Message.from_address == sender, Message.to_addresses.like(pattern)))
    return session.scalars(known.limit(1)).first() is not None


def _ticket(session: Session, reference: str | None) -> Ticket | None:
    ticket_id = Ticket.id_from_reference(reference) if reference else None
    return session.get(Ticket, ticket_id) if ticket_id is not None else None
