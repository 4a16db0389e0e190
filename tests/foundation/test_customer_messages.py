"""R20 on the ticket page: the customer's message joins the ticket and fires the customer-reply
trigger."""

from __future__ import annotations

from sqlalchemy import select

from tests.foundation.helpers import hidden_fields, local_path, post_demo, submit, visible_text
from ticketbridge.actors import Actor
from ticketbridge.app import create_app
from ticketbridge.clock import utcnow
from ticketbridge.tickets.models import Direction, Message, Ticket, TicketEvent

GENERAL = {
    "customer_name": "Acme",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
    "description": "Which plan fits us?",
}


def ask_customer(runtime, ticket_id: int) -> None:
    with runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        runtime.engine.fire_manual(
            session,
            ticket,
            "ask_customer",
            staff_role="agent",
            fields={},
            now=utcnow(),
            actor=Actor.staff("ann@team.example"),
        )


def test_r20_a_message_on_the_ticket_page_joins_the_ticket_and_moves_the_workflow(runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    page_path = local_path(submit(client, "/requests/general", GENERAL).headers["Location"])
    with runtime.db.transaction() as session:
        ticket_id = session.scalars(select(Ticket.id)).one()
    ask_customer(runtime, ticket_id)
    assert "Add a message to this ticket" in client.get(page_path).text

    response = submit(
        client,
        page_path,
        {"message": "  We run 12 agents on <b>one</b> server.  "},
        action=f"{page_path}/messages",
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "Your message was added to the ticket" in page
    assert "We run 12 agents on &lt;b&gt;one&lt;/b&gt; server." in page

    with runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        [message] = session.scalars(
            select(Message).where(Message.direction == Direction.INBOUND)
        ).all()
        transition = session.scalars(
            select(TicketEvent)
            .where(TicketEvent.kind == "transition")
            .order_by(TicketEvent.id.desc())
        ).first()
        assert ticket.state == "received"
        assert (
            message.text_body == "We run 12 agents on <b>one</b> server."
            and message.from_address == "ops@acme.example"
        )
        assert transition.payload["trigger"] == "customer_reply" and transition.payload[
            "fields"
        ] == {"message_id": message.message_id}


def test_an_empty_message_is_refused_at_the_field(runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    page_path = local_path(submit(client, "/requests/general", GENERAL).headers["Location"])
    response = submit(client, page_path, {"message": "   "}, action=f"{page_path}/messages")
    assert response.status_code == 422
    field = response.text.split('id="field-message"', 1)[1].split("</div>", 1)[0]
    assert "write your message before sending it" in field
    with runtime.db.transaction() as session:
        assert session.scalars(select(Message)).all() == []


def test_a_closed_ticket_offers_no_form_and_refuses_a_message(runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    page_path = local_path(post_demo(client).headers["Location"])
    page = client.get(page_path).text
    assert "Add a message to this ticket" not in page
    assert "This ticket is closed." in visible_text(page)
    token = hidden_fields(client.get("/requests/general").text)["csrf_token"]
    refused = client.post(f"{page_path}/messages", data={"message": "Thanks!", "csrf_token": token})
    assert refused.status_code == 409
    assert "is closed; reply to its last email or send a General request" in refused.text


def test_a_forged_link_cannot_post_a_message(runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    forged = submit(client, "/requests/general", {"message": "hi"}, action="/t/MQ.forged/messages")
    assert forged.status_code == 404
