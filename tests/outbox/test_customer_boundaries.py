"""Issue 8.6, 8.3 and 8.7: one customer never reaches another's name, license or email cap.

A ticket greets the name its own request gave; license details show only on tickets of the
license's own customer (the one it was activated for); a form refuses an address that SMTP
cannot carry; the hourly cap counts one mailbox however its address is spelled.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.foundation.helpers import kept_emails, local_path, post_demo, submit, visible_text
from ticketbridge.app import create_app
from ticketbridge.clock import utcnow
from ticketbridge.outbox.models import OutboxEmail
from ticketbridge.tickets.models import Ticket

TOKEN = "SRV-7f3a9c2e51"


def general(client, **changes) -> str:
    """File a general request; returns its ticket page's path."""
    form = {
        "customer_name": "Mallory",
        "customer_email": "mallory@evil.example",
        "accept_conditions": "on",
        "description": "What is the state of this license?",
        **changes,
    }
    response = submit(client, "/requests/general", form)
    assert response.status_code == 303, response.text
    return local_path(response.headers["Location"])


def test_license_state_shows_only_on_tickets_of_the_license_customer(runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    owner_page = local_path(post_demo(client).headers["Location"])
    other_page = general(client, token=TOKEN)
    colleague_page = general(client, token=TOKEN, customer_email="ops@acme.example")

    owner, other = visible_text(client.get(owner_page).text), client.get(other_page).text
    assert "License state trial until" in owner
    assert "License state" not in visible_text(other) and "trial" not in visible_text(other)
    assert "License state trial until" in visible_text(client.get(colleague_page).text)


def test_each_ticket_greets_the_name_of_its_own_request(runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    post_demo(client, customer_name="Acme Contact Center")
    general(client, customer_email="ops@acme.example", customer_name="Someone Else")

    with runtime.db.transaction() as session:
        first = session.scalars(select(Ticket).order_by(Ticket.id)).first()
        runtime.outbox.queue_email(
            session,
            ticket=first,
            template="general_received",
            now=utcnow(),
            context={"related_reference": None},
        )

    *_, later = kept_emails(runtime.settings.mail_folder)
    assert later["Subject"].startswith("[LIC-000001]")
    assert later["To"].addresses[0].display_name == "Acme Contact Center"
    assert "Dear Acme Contact Center," in later.get_body(("plain",)).get_content()
    with runtime.db.transaction() as session:
        names = session.scalars(select(Ticket.customer_name).order_by(Ticket.id)).all()
    assert names == ["Acme Contact Center", "Someone Else"]


@pytest.mark.parametrize("address", ["ëve@example.com", "Ëve@Example.com"])
def test_r1_non_ascii_before_the_at_is_refused_at_the_field(runtime, address) -> None:
    response = post_demo(create_app(runtime=runtime).test_client(), customer_email=address)
    assert response.status_code == 422
    assert "Internationalized characters before the @-sign are not supported" in response.text
    with runtime.db.transaction() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_the_hourly_cap_counts_tags_and_case_as_one_mailbox(make_runtime, db_url) -> None:
    runtime = make_runtime(database_url=db_url, mail_rate_cap_per_hour=2)
    client = create_app(runtime=runtime).test_client()
    for number, email in enumerate(("a@example.com", "a+x@example.com", "A@Example.com")):
        post_demo(client, customer_email=email, token=f"SRV-capped-{number:04d}")

    with runtime.db.transaction() as session:
        rows = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
        assert [row.recipient for row in rows] == [
            "a@example.com",
            "a+x@example.com",
            "a@example.com",
        ], "each email goes to the address as given (lower-cased, as customers are kept)"
        assert [row.next_attempt_at > row.created_at for row in rows] == [False, False, True]
    assert len(kept_emails(runtime.settings.mail_folder)) == 2
