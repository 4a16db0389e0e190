"""A ticket's history as its customer reads it: the workflow's own words, nothing internal.

The timeline holds everything staff need — step errors, retries, email deliveries, rule codes.
The customer sees an allow-list of event kinds, each as a plain sentence; an event kind not
listed here (a staff note, a failed step, a held email) is never shown to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ticketbridge.forms.display import answered
from ticketbridge.tickets.models import Ticket, TicketEvent
from ticketbridge.workflow.definitions import Workflow
from ticketbridge.workflow.wording import customer_words


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    text: str


def _transition(event: TicketEvent, workflow: Workflow) -> str:
    state = workflow.states.get(event.payload.get("to", ""))
    words = state.description if state and state.description else None
    text = words or str(event.payload.get("to", "")).replace("_", " ").capitalize() + "."
    reason = customer_words(event.payload.get("reason"))
    return f"{text} {reason}" if reason else text


def _message(event: TicketEvent, workflow: Workflow) -> str:
    """A page message; with the answers its state asked for, in the form's own words."""
    state = workflow.states.get(str(event.payload.get("state", "")))
    answers = event.payload.get("answers")
    if state is None or not isinstance(answers, dict):
        return "You added a message on this page."
    given = "; ".join(f"{label}: {words}" for label, words in answered(state.asks, answers))
    sentence = f"You answered on this page: {given}" if given else "You answered on this page"
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


_SENTENCES: dict[str, Callable[[TicketEvent, Workflow], str]] = {
    "created": lambda event, workflow: f"Request received: {workflow.title or workflow.name}.",
    "transition": _transition,
    "customer_message": _message,
    "email_received": lambda event, workflow: "Your email was received.",
    "email_sent": lambda event, workflow: "We emailed you about this ticket.",
    "reopened": lambda event, workflow: "Reopened by your reply.",
    # Our own sentence (the server's token and when it fetched the change), never customer text.
    "license_synced": lambda event, workflow: event.summary,
}


def customer_history(ticket: Ticket, workflow: Workflow) -> list[Entry]:
    return [
        Entry(event.at, _SENTENCES[event.kind](event, workflow))
        for event in ticket.events
        if event.kind in _SENTENCES
    ]
