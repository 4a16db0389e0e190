"""Driving request types end to end: the real forms over HTTP, staff actions through the service,
customer replies on the ticket page, timers by moving the clock, and the server's sync.

The clock is moved with time-machine, so the web app, the engine, the jobs and the database
defaults all see the same "now"; jobs run in process (the embedded default), and sent mail is
kept as .eml files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.foundation.helpers import kept_emails, local_path, submit, text_part, visible_text
from ticketbridge.actors import Actor
from ticketbridge.clock import utcnow
from ticketbridge.jobs.sweeper import due_timers, sweep
from ticketbridge.licenses.invoicing import invoices_for_month
from ticketbridge.licenses.ledger import replay
from ticketbridge.licenses.models import EntitlementChange, License
from ticketbridge.licenses.sync import derive_sync_secret
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket, TicketEvent
from ticketbridge.workflow.models import WorkflowTimer

CUSTOMER = {
    "customer_name": "Acme Contact Center",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
}
STAFF = Actor.staff("ana@license.example")


def at(text: str) -> dt.datetime:
    """A moment in UTC, written "2026-11-10 09:00"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass
class Portal:
    runtime: Runtime
    client: FlaskClient
    traveller: Any
    seen_mail: int = 0
    links: dict[int, str] = field(default_factory=dict)

    # -- the clock -------------------------------------------------------------------------

    def move_to(self, moment: dt.datetime) -> None:
        self.traveller.move_to(moment)

    def run_timers_until(self, moment: dt.datetime) -> None:
        """Move the clock to `moment`, firing every timer due on the way at its due time."""
        while True:
            with self.runtime.db.transaction() as session:
                # The sweeper's own notion of a due timer, so this cannot drift from it.
                due = session.scalar(
                    due_timers(moment).with_only_columns(WorkflowTimer.due_at).limit(1)
                )
            if due is None:
                break
            self.move_to(max(due, utcnow()))
            sweep(self.runtime.db, self.runtime.jobs, utcnow())
        self.move_to(moment)
        sweep(self.runtime.db, self.runtime.jobs, utcnow())

    # -- the customer ----------------------------------------------------------------------

    def file(self, request_type: str, token: str | None = "SRV-ACME-0001", **form: Any) -> int:
        """Post the request form; returns the new ticket's id (read off the redirect link)."""
        data = {**CUSTOMER, **({"token": token} if token else {}), **form}
        response = submit(self.client, f"/requests/{request_type}", data)
        assert response.status_code == 303, response.text
        link = response.headers["Location"]
        ticket_id = self.runtime.links.ticket_id_from_token(link.rsplit("/", 1)[1])
        assert ticket_id is not None
        self.links[ticket_id] = local_path(link)
        return ticket_id

    def refused(self, request_type: str, token: str = "SRV-ACME-0001", **form: Any) -> str:
        """Post a form the portal refuses; returns the page's text (nothing is created)."""
        data = {**CUSTOMER, "token": token, **form}
        response = submit(self.client, f"/requests/{request_type}", data)
        assert response.status_code == 422, response.status_code
        return visible_text(response.text)

    def reply(self, ticket_id: int, text: str) -> None:
        page = self.links[ticket_id]
        response = submit(self.client, page, {"message": text}, action=f"{page}/messages")
        assert response.status_code == 303, response.text

    def page(self, ticket_id: int) -> str:
        response = self.client.get(self.links[ticket_id])
        assert response.status_code == 200
        return visible_text(response.text)

    # -- staff -----------------------------------------------------------------------------

    def act(self, ticket_id: int, transition: str, role: str = "agent", **fields: Any) -> None:
        with self.runtime.db.transaction() as session:
            ticket = session.get_one(Ticket, ticket_id, with_for_update=True)
            self.runtime.engine.fire_manual(
                session,
                ticket,
                transition,
                staff_role=role,
                fields=fields,
                now=utcnow(),
                actor=STAFF,
            )

    # -- the customer's server -------------------------------------------------------------

    def sync(self, token: str) -> int:
        """The server polls its license with the sync secret from the key email."""
        with self.runtime.db.transaction() as session:
            license = session.scalars(select(License).where(License.token == token)).one()
            secret = derive_sync_secret(self.runtime.settings.secret_key, license)
        response = self.client.get(
            f"/api/v1/licenses/{token}", headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.status_code == 200, response.text
        return int(response.get_json()["revision"])

    # -- what came out ---------------------------------------------------------------------

    def ticket(self, ticket_id: int) -> Ticket:
        with self.runtime.db.transaction() as session:
            return session.get_one(Ticket, ticket_id)

    def ticket_count(self) -> int:
        with self.runtime.db.transaction() as session:
            return len(session.scalars(select(Ticket.id)).all())

    def state(self, ticket_id: int) -> tuple[str, str | None]:
        ticket = self.ticket(ticket_id)
        return ticket.state, ticket.outcome

    def license(self, token: str = "SRV-ACME-0001") -> License:
        with self.runtime.db.transaction() as session:
            license = session.scalars(select(License).where(License.token == token)).one()
            session.expunge(license)
            return license

    def entitlements(self, token: str = "SRV-ACME-0001") -> dict[str, int]:
        """The snapshot, after checking that the ledger replays to it."""
        with self.runtime.db.transaction() as session:
            license = session.scalars(select(License).where(License.token == token)).one()
            assert replay(license.changes) == license.entitlements
            return dict(license.entitlements)

    def ledger(self, ticket_id: int) -> list[tuple[str, int, int, dt.date]]:
        with self.runtime.db.transaction() as session:
            return [
                (c.item, c.old_quantity, c.new_quantity, c.effective_at.date())
                for c in session.scalars(
                    select(EntitlementChange)
                    .where(EntitlementChange.ticket_id == ticket_id)
                    .order_by(EntitlementChange.id)
                )
            ]

    def events(self, ticket_id: int, kind: str) -> list[TicketEvent]:
        with self.runtime.db.transaction() as session:
            return list(
                session.scalars(
                    select(TicketEvent)
                    .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)
                    .order_by(TicketEvent.id)
                )
            )

    def new_emails(self) -> list[EmailMessage]:
        """The emails sent since the last call, in order."""
        emails = kept_emails(self.runtime.settings.mail_folder)
        fresh, self.seen_mail = emails[self.seen_mail :], len(emails)
        for email in fresh:
            body = text_part(email)
            assert "CLICK HERE TO REPLY: http://tickets.test/t/" in body
            assert "Support Request: http://tickets.test/support" in body
            assert f"[{email['Subject'].split(']')[0].lstrip('[')}]" in email["Subject"]
        return fresh

    def subjects(self) -> list[str]:
        return [str(email["Subject"]) for email in self.new_emails()]

    def invoice(self, month: str, token: str = "SRV-ACME-0001") -> list[tuple[str, str, int, str]]:
        """The invoice lines of `token` for the month YYYY-MM: (item, kind, quantity, amount)."""
        with self.runtime.db.transaction() as session:
            invoices = invoices_for_month(
                session, self.runtime.catalogue, dt.date.fromisoformat(f"{month}-01")
            )
        [invoice] = [i for i in invoices if i.token == token]
        return [
            (line.item, line.kind.value, line.quantity, f"{line.amount:.2f}")
            for line in invoice.lines
        ]


def portal_at(runtime: Runtime, start: dt.datetime) -> Iterator[Portal]:
    from ticketbridge.app import create_app

    with time_machine.travel(start, tick=False) as traveller:
        yield Portal(runtime, create_app(runtime=runtime).test_client(), traveller)
