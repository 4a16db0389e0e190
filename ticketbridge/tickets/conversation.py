"""Messages a customer writes on the ticket page (R20's web side of "reply to the ticket").

They are kept like an emailed reply — an inbound Message with its own Message-ID, so later
emails thread after it — and fire the workflow's customer-reply trigger the same way.

When the ticket's state asks the customer for something (`asks`: a log file, a confirmation),
the page sends those answers with the message: the one validator checks them, they are kept
on the message and the timeline, and they join the ticket's form as the trigger fires, all in
the caller's transaction. The free text is then optional. A page sent twice (double click,
reload) carries the same reply id, so the second finds its message and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from email.utils import make_msgid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.errors import Conflict, ValidationError
from ticketbridge.forms.fields import FieldType, FormField, Upload
from ticketbridge.forms.validate import (
    StoreUploads,
    describe_uploads,
    validate_fields,
    with_stored_files,
)
from ticketbridge.tickets.models import Direction, Message, Ticket
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.engine import Engine

MAX_LENGTH = 20_000
MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
REPLY_ID = re.compile(r"^[0-9a-f]{32}$")


class StaleAnswers(Conflict):
    """The page asked for what an earlier state wanted; the ticket has moved on since."""


def _file_errors(files: tuple[Upload, ...]) -> list[str]:
    if len(files) > MAX_FILES:
        return [f"at most {MAX_FILES} files per message"]
    too_big = [f.filename for f in files if len(f.payload) > MAX_FILE_BYTES]
    if too_big:
        return [f"{', '.join(too_big)}: at most {MAX_FILE_BYTES // (1024 * 1024)} MB per file"]
    return []


def _text_errors(text: str, asks: tuple[FormField, ...]) -> list[str]:
    if not text and not asks:
        return ["write your message before sending it"]
    if len(text) > MAX_LENGTH:
        return [f"at most {MAX_LENGTH} characters; attach longer logs to a General request"]
    return []


def _answers(
    asks: tuple[FormField, ...], raw: Mapping[str, Any], errors: dict[str, list[str]]
) -> dict[str, Any] | None:
    """The clean answers to the state's questions (None when it asks nothing); a field at fault
    is added to `errors`, so the page shows every mistake at once."""
    if not asks:
        return None
    try:
        return validate_fields(asks, raw)
    except ValidationError as exc:
        errors.update(exc.errors)
        return None


def _asked_files(asks: tuple[FormField, ...], stored: Mapping[str, Any] | None) -> list[Any]:
    """The files among the answers, kept on the message too: a later answer replaces them in
    the form, and the message keeps each one where staff download it."""
    if stored is None:
        return []
    return [item for f in asks if f.type == FieldType.FILE for item in stored[f.name]]


def _message_id(ticket: Ticket, reply_id: str, reply_domain: str) -> str:
    """The page's reply id makes the Message-ID, so the same page sent twice is one message."""
    if REPLY_ID.match(reply_id):
        return f"<{ticket.reference}.web.{reply_id}@{reply_domain}>"
    return make_msgid(idstring=f"{ticket.reference}.web", domain=reply_domain)


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
    answers: Mapping[str, Any] | None = None,
    asked_state: str = "",
    reply_id: str = "",
) -> Message:
    """`files` and the files among `answers` are kept by `store` only once the message is
    accepted. `asked_state` is the state the page was shown in: answers meant for another
    state are refused (StaleAnswers) rather than read as answers to a question not asked."""
    message_id = _message_id(ticket, reply_id, reply_domain)
    sent = session.scalars(select(Message).where(Message.message_id == message_id)).first()
    if sent is not None and sent.ticket_id == ticket.id:
        return sent
    if ticket.is_closed:
        raise Conflict(f"Ticket {ticket.reference} is closed, so no message can be added here.")
    if asked_state and asked_state != ticket.state:
        raise StaleAnswers(
            f"Ticket {ticket.reference} has moved on since this page was opened; nothing was "
            "sent. Here is what it asks now."
        )
    asks = engine.workflow_of(session, ticket).states[ticket.state].asks
    text = text.strip()
    errors: dict[str, list[str]] = {}
    cleaned = _answers(asks, answers or {}, errors)
    for name, messages in (
        ("message", _text_errors(text, asks)),
        ("attachments", _file_errors(files)),
    ):
        if messages:
            errors[name] = messages
    if errors:
        raise ValidationError(errors)
    stored = None if cleaned is None else with_stored_files(asks, cleaned, store)
    message = Message(
        ticket=ticket,
        direction=Direction.INBOUND,
        message_id=message_id,
        subject=f"Message on {ticket.reference}",
        from_address=ticket.customer.email,
        to_addresses="",
        text_body=text,
        attachments=[*(store(files) if files else []), *_asked_files(asks, stored)],
        created_at=now,
    )
    session.add(message)
    record(
        session,
        ticket,
        actor=Actor.customer(ticket.customer.email),
        kind="customer_message",
        summary="Message from the customer on the ticket page"
        + (" with the answers the ticket asked for" if stored is not None else ""),
        payload={"message_id": message_id}
        | ({"state": ticket.state, "answers": stored} if stored is not None else {}),
        now=now,
    )
    engine.customer_replied(session, ticket, now=now, message_id=message.message_id, answers=stored)
    return message
