"""Every mapped class, imported in one place so Base.metadata is complete (Alembic, tests)."""

from ticketbridge.customers.models import Customer
from ticketbridge.licenses.models import EntitlementChange, License, LicenseState
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.staff.models import StaffRole, StaffUser
from ticketbridge.tickets.models import Direction, Message, Ticket, TicketEvent, WaitingOn
from ticketbridge.workflow.models import WorkflowVersion

__all__ = [
    "Customer",
    "Direction",
    "EntitlementChange",
    "License",
    "LicenseState",
    "Message",
    "OutboxEmail",
    "OutboxStatus",
    "StaffRole",
    "StaffUser",
    "Ticket",
    "TicketEvent",
    "WaitingOn",
    "WorkflowVersion",
]
