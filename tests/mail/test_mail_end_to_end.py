"""Issue 5's "Done when": an outcome email out through SMTP, the customer's reply back through
Dovecot onto the right ticket with only its new text, and the workflow moving on."""

from __future__ import annotations

from sqlalchemy import select

from tests.foundation.helpers import submit, text_part
from tests.mail.mailbuild import fetch_once, reply_to, tickets
from ticketbridge.actors import Actor
from ticketbridge.app import create_app
from ticketbridge.intake.mailbox.models import InboundEmail
from ticketbridge.tickets.models import Direction

QUESTION_FORM = {
    "customer_name": "Acme Contact Center",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
}
NEW_TEXT = "Bitte den Produktionsserver lizenzieren – danke! Grüße aus Köln, Zoë"


def html_reply(outbound_text: str) -> str:
    """What Outlook on the web sends: HTML only, the new text above a quoted copy of ours."""
    quoted = outbound_text.replace("\n", "<br>")
    return (
        f"<html><body><div dir='ltr'><p>{NEW_TEXT}</p></div>"
        "<div><p>Am Mo., 3. März 2025 um 10:15 Uhr schrieb XCALLY License Team "
        "&lt;license@tickets.test&gt;:</p>"
        "<blockquote style='margin:0 0 0 .8ex;border-left:1px solid "
        f"#ccc'>{quoted}</blockquote></div></body></html>"
    )


def test_outcome_email_out_reply_in_on_the_right_ticket_and_the_workflow_moves(
    make_mail_runtime, imap_mailbox, pg_url, smtp_server
) -> None:
    runtime = make_mail_runtime(
        database_url=pg_url, smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )
    client = create_app(runtime=runtime).test_client()
    assert submit(client, "/requests/question", QUESTION_FORM).status_code == 303
    [outcome] = smtp_server.wait_for(1)
    assert outcome["Subject"].startswith("[LIC-000001] ")
    [ticket] = tickets(runtime)
    assert ticket.state == "waiting_customer"

    colleague_reply = reply_to(
        outcome,
        sender="Jürgen Müller <juergen@acme.example>",
        cc="ops@acme.example",
        text=None,
        html=html_reply(text_part(outcome)),
    )
    imap_mailbox.append(colleague_reply)
    report = fetch_once(runtime)

    assert report.total == 1
    [ticket] = tickets(runtime)
    assert ticket.state == "answered"
    inbound = [m for m in ticket.messages if m.direction == Direction.INBOUND]
    assert [m.text_body for m in inbound] == [NEW_TEXT]
    assert inbound[0].from_address == "juergen@acme.example"
    assert "Which server should we license" in (inbound[0].html_body or "")
    transition = [e for e in ticket.events if e.kind == "transition"][-1]
    assert transition.payload["to"] == "answered" and transition.actor == Actor.customer(
        "ops@acme.example"
    )
    with runtime.db.transaction() as session:
        raw = session.scalars(select(InboundEmail.raw)).one()
    assert raw == colleague_reply
    assert len(smtp_server.received) == 1
