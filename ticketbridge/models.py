"""Every mapped class, imported in one place so Base.metadata is complete (Alembic, tests)."""

from ticketbridge.customers.models import Customer
from ticketbridge.intake.mailbox.models import (
    InboundEmail,
    InboundStatus,
    MailboxFolder,
    MailboxLease,
)
from ticketbridge.licenses.models import (
    AppState,
    EntitlementChange,
    License,
    LicenseApplication,
    LicenseState,
    LicenseSyncWait,
    TokenMove,
    UsageReport,
)
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.staff.models import StaffRole, StaffUser, TicketPresence
from ticketbridge.tickets.models import Direction, Message, Ticket, TicketEvent, WaitingOn
from ticketbridge.workflow.models import WorkflowPublication, WorkflowVersion

__all__ = [
    "AppState",
    "Customer",
    "Direction",
    "EntitlementChange",
    "InboundEmail",
    "InboundStatus",
    "License",
    "LicenseApplication",
    "LicenseState",
    "LicenseSyncWait",
    "MailboxFolder",
    "MailboxLease",
    "Message",
    "OutboxEmail",
    "OutboxStatus",
    "StaffRole",
    "StaffUser",
    "TicketPresence",
    "Ticket",
    "TicketEvent",
    "TokenMove",
    "UsageReport",
    "WaitingOn",
    "WorkflowPublication",
    "WorkflowVersion",
]
