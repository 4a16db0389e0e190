"""Issue 8 item 11: customers read the workflow's words, never rule codes or exception text;
staff keep the detail; every refusal shows the same way to follow up, and it works."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.foundation.helpers import (
    kept_emails,
    local_path,
    post_demo,
    submit,
    text_part,
    visible_text,
)
from ticketbridge.clock import utcnow
from ticketbridge.tickets.models import Ticket, TicketEvent
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.wording import customer_words

RULE_CODE = re.compile(r"\(R\d")


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("each token gets one demo (R2). An expired", "each token gets one demo. An expired"),
        ("billed (R11, R12) in advance", "billed in advance"),
        ("see (R2 and R4).", "see."),
        ("no code here (really)", "no code here (really)"),
    ],
)
def test_rule_citations_are_cut_from_customer_text(text: str, plain: str) -> None:
    assert customer_words(text) == plain


def test_a_refusal_reads_plainly_to_the_customer_and_keeps_the_rule_for_staff(
    client, runtime
) -> None:
    post_demo(client)
    refused = post_demo(client, customer_email="someone.else@acme.example")
    page = client.get(local_path(refused.headers["Location"])).text
    assert "A new activation is only possible while the server token is not active yet" in page
    assert not RULE_CODE.search(page)
    assert not RULE_CODE.search(text_part(kept_emails(runtime.settings.mail_folder)[-1]))
    with runtime.db.transaction() as session:
        reasons = session.scalars(
            select(TicketEvent.payload).where(TicketEvent.kind == "transition")
        ).all()
    assert any(payload.get("reason") for payload in reasons), "staff keep the reason as written"


def test_internal_events_and_error_text_never_reach_the_ticket_page(client, runtime) -> None:
    page_path = local_path(post_demo(client).headers["Location"])
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        for kind, summary in (
            ("step_failed", "Step failed in state received: NonASCIILocalPartDefect"),
            ("email_failed", "Email to ops@acme.example failed: 550 5.1.1 mailbox unknown"),
            ("staff_note", "Customer is a reseller; check the contract"),
        ):
            record(session, ticket, actor="system", kind=kind, summary=summary, now=utcnow())
    page = visible_text(client.get(page_path).text)
    for secret in ("NonASCIILocalPartDefect", "550 5.1.1", "reseller", "Step failed"):
        assert secret not in page
    assert "Request received" in page and "Demo activated for 30 days." in page


def test_the_follow_up_of_a_closed_ticket_leads_to_a_request_that_is_accepted(client) -> None:
    page = client.get(local_path(post_demo(client).headers["Location"])).text
    assert "This ticket is closed." in visible_text(page)
    support = re.search(r'send a <a href="([^"]+)">Support Request</a>', page).group(1)
    general = re.search(r'href="([^"]*/requests/general)"', client.get(support).text).group(1)
    answer = submit(
        client,
        general,
        {
            "customer_name": "Acme",
            "customer_email": "ops@acme.example",
            "accept_conditions": "on",
            "description": "About my closed ticket",
        },
    )
    assert answer.status_code == 303
