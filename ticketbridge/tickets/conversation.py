"""Messages a customer writes on the ticket page (R20's web side of "reply to the ticket").

They are kept like an emailed reply — an inbound Message with its own Message-ID, so later
emails thread after it — and fire the workflow's customer-reply trigger the same way.
"""

from __future__ import annotations

import datetime as dt
from email.utils import make_msgid

from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.errors import Conflict, ValidationError
from ticketbridge.forms.fields import Upload
from ticketbridge.forms.validate import StoreUploads, describe_uploads
from ticketbridge.tickets.models import Direction, Message, Ticket
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.engine import Engine

MAX_LENGTH = 20_000
MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024


def _check_files(files: tuple[Upload, ...]) -> None:
    if len(files) > MAX_FILES:
        raise ValidationError({"attachments": [f"at most {MAX_FILES} files per message"]})
    too_big = [f.filename for f in files if len(f.payload) > MAX_FILE_BYTES]
    if too_big:
        raise ValidationError(
            {
                "attachments": [
                    f"{', '.join(too_big)}: at most {MAX_FILE_BYTES // (1024 * 1024)} MB per file"
                ]
            }
        )


def add_customer_message(
    session: Session,
    engine: Engine,
    ticket: Ticket,
    text: str,
    *,
    reply_domain: str,
    now: dt.datetime,
    files: tuple[Upload, ...] = (),
    store: StoreUploads = describe_uploads,
) -> Message:
    """`files` are kept by `store` only once the message is accepted."""
    _check_files(files)
    text = text.strip()
    if not text:
        raise ValidationError({"message": ["write your message before sending it"]})
    if len(text) > MAX_LENGTH:
        raise ValidationError(
            {
                "message": [
                    f"at most {MAX_LENGTH} characters; attach longer logs to a General request"
                ]
            }
        )
    if ticket.is_closed:
        raise Conflict(
            f"ticket {ticket.reference} is closed; reply to its last email or send a General "
            "request to follow up"
        )
    message = Message(
        ticket=ticket,
        direction=Direction.INBOUND,
        message_id=make_msgid(idstring=f"{ticket.reference}.web", domain=reply_domain),
        subject=f"Message on {ticket.reference}",
        from_address=ticket.customer.email,
        to_addresses="",
        text_body=text,
        attachments=store(files) if files else [],
        created_at=now,
    )
    session.add(message)
    actor = Actor.customer(ticket.customer.email)
    record(
        session,
        ticket,
        actor=actor,
        kind="customer_message",
        summary="Message from the customer on the ticket page",
        payload={"message_id": message.message_id},
        now=now,
    )
    engine.customer_replied(session, ticket, now=now, message_id=message.message_id)
    return message
