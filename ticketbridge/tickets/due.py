"""When a ticket is due: each state's `target_time`, with the clock stopped while the ticket
waits on the customer.

Entering a state with a target starts its clock (`due_at = now + target`). Going to a state
that waits on the customer stops it and keeps the time that was left; coming back to the state
it was stopped in resumes it with that time, so a question to the customer never makes the
team overdue. Any other state starts its own target, or has none. Stored on the ticket so the
queue can filter and sort overdue tickets with an index instead of replaying timelines.
"""

from __future__ import annotations

import datetime as dt

from ticketbridge.tickets.models import Ticket
from ticketbridge.workflow.definitions import State, WaitsOn


def enter(ticket: Ticket, state: State, now: dt.datetime) -> None:
    if state.is_final:
        ticket.due_at, ticket.due_state, ticket.due_paused_seconds = None, None, None
    elif state.waits_on is WaitsOn.CUSTOMER:
        if ticket.due_at is not None:
            left = max(0, int((ticket.due_at - now).total_seconds()))
            ticket.due_at, ticket.due_paused_seconds = None, left
    elif ticket.due_paused_seconds is not None and ticket.due_state == state.name:
        ticket.due_at = now + dt.timedelta(seconds=ticket.due_paused_seconds)
        ticket.due_paused_seconds = None
    else:
        ticket.due_state = state.name if state.target_time else None
        ticket.due_at = now + state.target_time if state.target_time else None
        ticket.due_paused_seconds = None
