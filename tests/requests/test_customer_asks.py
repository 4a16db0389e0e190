"""What a waiting state asks the customer (`asks`), on the ticket page: a grace request's log
file (R14) and a contract change's confirmation (R13), on SQLite and PostgreSQL.

The page shows exactly the asked fields; the one validator checks them with errors naming the
field; accepted answers land on the timeline, in the ticket's form (guards read them) and fire
the customer-reply trigger in one transaction; a page sent twice changes nothing the second
time; an emailed reply is kept but moves nothing while a required answer is missing."""

from __future__ import annotations

import io
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from tests.foundation.helpers import hidden_fields, text_part, visible_text
from tests.requests.portal import Portal
from tests.requests.test_modify import active_license
from ticketbridge.clock import utcnow
from ticketbridge.intake.email.ingest import FetchedMail
from ticketbridge.replay import recorded_inputs
from ticketbridge.simulation import SimulatedEvent
from ticketbridge.tickets.models import Direction, Message, Ticket

LOG = b"2026-11-02 license: token SRV-ACME-0001 expired\n"


def grace_waiting_for_the_log(portal: Portal) -> int:
    active_license(portal)
    ticket = portal.file("grace", grace_reason="license_deactivated", grace_expires_on="2026-12-10")
    portal.act(ticket, "ask_log_file", question="The log you sent is empty; please send it again.")
    assert portal.state(ticket) == ("waiting_log_file", None)
    return ticket


def contract_waiting_for_confirmation(portal: Portal) -> int:
    active_license(portal)
    ticket = portal.file("contract", changes=["support_plan"], new_support_plan="silver")
    portal.act(ticket, "ask_confirmation", question="Silver costs 20 % less; confirm the change?")
    assert portal.state(ticket) == ("waiting_confirmation", None)
    return ticket


def post(portal: Portal, ticket: int, data: dict[str, Any], page: str | None = None) -> Any:
    """Send the ticket page's form as a browser does (multipart, with its hidden fields)."""
    link = portal.links[ticket]
    form = {**hidden_fields(page or portal.client.get(link).text), **data}
    return portal.client.post(f"{link}/messages", data=form, content_type="multipart/form-data")


def events(portal: Portal, ticket: int) -> list[str]:
    return [e.kind for e in portal.events(ticket, "customer_message")] + [
        e.payload["transition"]
        for e in portal.events(ticket, "transition")
        if e.payload["trigger"] == "customer_reply"
    ]


def test_r14_the_page_asks_for_the_log_file_and_its_answer_moves_the_ticket(
    portal: Portal,
) -> None:
    ticket = grace_waiting_for_the_log(portal)
    portal.new_emails()
    page = portal.client.get(portal.links[ticket]).text
    assert 'type="file" id="log_file" name="log_file" multiple' in page
    assert 'id="help-log_file"' in page and "Retrieve status" in page
    assert 'Log file <span class="required">(required)</span>' in page
    assert 'name="log_comments"' in page and 'name="attachments"' not in page
    assert "Anything else to tell the license team (optional)" in visible_text(page)

    response = post(portal, ticket, {"log_comments": "From the primary server."})
    assert response.status_code == 422
    assert "Log file is required" in visible_text(response.text)
    assert 'aria-invalid="true"' in response.text
    assert portal.state(ticket) == ("waiting_log_file", None) and events(portal, ticket) == []

    response = post(
        portal,
        ticket,
        {
            "log_file": (io.BytesIO(LOG), "server.log", "text/plain"),
            "log_comments": "From the primary server.\r\nSecond line.",
            "message": "",
        },
    )
    assert response.status_code == 303, response.text
    assert portal.state(ticket) == ("review", None)
    stored = portal.ticket(ticket).form_data
    [file] = stored["log_file"]
    assert (file["name"], file["size"]) == ("server.log", len(LOG))
    assert stored["log_comments"] == "From the primary server.\nSecond line."
    [message] = portal.events(ticket, "customer_message")
    assert message.payload["answers"]["log_comments"] == stored["log_comments"]
    [reply] = [e for e in portal.events(ticket, "transition") if e.payload["to"] == "review"][-1:]
    assert reply.payload["transition"] == "log_file_received"
    assert reply.payload["fields"]["answers"]["log_file"] == [file]
    text = portal.page(ticket)
    assert (
        f"You answered on this page: Log file: server.log ({len(LOG)} bytes); Comments on the "
        "log file: From the primary server. Second line. " in text
    )
    assert "What the license team needs from you" not in text  # review asks nothing


def test_r14_the_question_email_names_what_the_page_asks(portal: Portal) -> None:
    grace_waiting_for_the_log(portal)
    question = portal.new_emails()[-1]
    body = text_part(question)
    assert "The log you sent is empty; please send it again." in body
    assert "On your ticket page we ask for: Log file, Comments on the log file." in body


def test_a_page_sent_twice_is_one_answer(portal: Portal) -> None:
    ticket = grace_waiting_for_the_log(portal)
    page = portal.client.get(portal.links[ticket]).text
    for _ in range(2):
        response = post(
            portal, ticket, {"log_file": (io.BytesIO(LOG), "server.log", "text/plain")}, page
        )
        assert response.status_code == 303
    assert events(portal, ticket) == ["customer_message", "log_file_received"]
    with portal.runtime.db.transaction() as session:
        inbound = session.scalars(
            select(Message).where(Message.direction == Direction.INBOUND)
        ).all()
    assert len(inbound) == 1


def test_r13_the_customer_confirms_and_staff_apply(portal: Portal) -> None:
    ticket = contract_waiting_for_confirmation(portal)
    page = portal.client.get(portal.links[ticket]).text
    assert '<legend>Apply this contract change? <span class="required">(required)</span>' in page
    assert 'type="radio" name="confirmed" value="yes"' in page
    response = post(portal, ticket, {"confirmed": "yes"})
    assert response.status_code == 303
    assert portal.state(ticket) == ("verifying", None)
    assert portal.ticket(ticket).form_data["confirmed"] is True
    portal.act(ticket, "apply")
    assert portal.state(ticket) == ("applied", "completed")
    assert portal.license().support_plan == "silver"


def test_a_replay_plays_the_recorded_answers(portal: Portal) -> None:
    ticket = contract_waiting_for_confirmation(portal)
    assert post(portal, ticket, {"confirmed": "no"}).status_code == 303
    with portal.runtime.db.transaction() as session:
        recorded = recorded_inputs(session.get_one(Ticket, ticket))
    assert recorded.events[-1] == SimulatedEvent(
        "reply", fields={"confirmed": False, "confirmation_comments": None}
    )
    assert recorded.ended == "withdrawn (cancelled)"


def test_r13_the_customer_declines_and_the_request_is_withdrawn(portal: Portal) -> None:
    ticket = contract_waiting_for_confirmation(portal)
    portal.new_emails()
    response = post(portal, ticket, {"confirmed": "no", "confirmation_comments": "Too late."})
    assert response.status_code == 303
    assert portal.state(ticket) == ("withdrawn", "cancelled")
    assert portal.license().support_plan == "platinum"
    [withdrawn] = portal.new_emails()
    assert "is withdrawn: nothing on your license changed" in text_part(withdrawn)
    assert "You chose not to apply the change." in portal.page(ticket)


def test_hostile_answers_are_refused_at_their_field_and_change_nothing(portal: Portal) -> None:
    ticket = contract_waiting_for_confirmation(portal)
    cases = {
        "maybe": "Apply this contract change?: answer yes or no",
        "": "Apply this contract change? is required",
    }
    for answer, error in cases.items():
        response = post(portal, ticket, {"confirmed": answer})
        assert response.status_code == 422
        assert error in visible_text(response.text)
    response = post(portal, ticket, {"confirmed": "yes", "confirmation_comments": "a\x00b"})
    assert response.status_code == 400  # refused for every form before any view reads it
    assert "&#39;confirmation_comments&#39; contains a NUL character" in response.text
    response = post(portal, ticket, {"confirmed": "yes", "confirmation_comments": "a\x07b"})
    assert response.status_code == 422
    assert "Comments must not contain control characters" in visible_text(response.text)
    response = post(portal, ticket, {"confirmed": "yes", "confirmation_comments": "x" * 2001})
    assert "Comments must be at most 2000 characters, not 2001" in visible_text(response.text)
    assert events(portal, ticket) == [] and portal.state(ticket)[0] == "waiting_confirmation"

    # Fields the state does not ask are dropped, never stored: not even a form field's name.
    response = post(
        portal, ticket, {"confirmed": "yes", "new_support_plan": "platinum", "is_admin": "1"}
    )
    assert response.status_code == 303
    form = portal.ticket(ticket).form_data
    assert form["new_support_plan"] == "silver" and "is_admin" not in form


def test_files_beyond_the_asked_limits_are_refused(portal: Portal) -> None:
    ticket = grace_waiting_for_the_log(portal)
    four = [(io.BytesIO(LOG), f"part{n}.log", "text/plain") for n in range(4)]
    response = post(portal, ticket, {"log_file": four})
    assert response.status_code == 422
    assert "Log file: at most 3 files, not 4" in visible_text(response.text)
    big = (io.BytesIO(b"x" * (10 * 1024 * 1024 + 1)), "huge.log", "text/plain")
    response = post(portal, ticket, {"log_file": big})
    assert response.status_code == 422
    assert "huge.log has 10,485,761 bytes" in visible_text(response.text)
    response = post(portal, ticket, {"log_file": "not a file"})
    assert "Log file is required" in visible_text(response.text)
    assert events(portal, ticket) == []


def test_a_page_opened_before_the_ticket_moved_on_sends_nothing(portal: Portal) -> None:
    ticket = grace_waiting_for_the_log(portal)
    stale = portal.client.get(portal.links[ticket]).text
    response = post(portal, ticket, {"log_file": (io.BytesIO(LOG), "a.log", "text/plain")})
    assert response.status_code == 303 and portal.state(ticket) == ("review", None)
    response = post(portal, ticket, {"log_file": (io.BytesIO(LOG), "b.log", "text/plain")}, stale)
    assert response.status_code == 409
    assert "has moved on since this page was opened; nothing was sent" in visible_text(
        response.text
    )
    assert events(portal, ticket) == ["customer_message", "log_file_received"]
    assert [f["name"] for f in portal.ticket(ticket).form_data["log_file"]] == ["a.log"]


def reply_by_email(portal: Portal, ticket: int, text: str) -> None:
    reference = portal.ticket(ticket).reference
    email = EmailMessage()
    email["From"] = "ops@acme.example"
    email["To"] = "licenses@tickets.test"
    email["Subject"] = f"Re: [{reference}] A question about your request"
    email["Message-ID"] = f"<reply-{ticket}@acme.example>"
    email.set_content(text)
    with portal.runtime.db.transaction() as session:
        portal.runtime.ingestor("licenses@tickets.test").ingest(
            session, [FetchedMail("INBOX", ticket, email.as_bytes())], utcnow()
        )


def test_an_email_reply_is_kept_but_the_page_still_asks(portal: Portal) -> None:
    ticket = grace_waiting_for_the_log(portal)
    reply_by_email(portal, ticket, "Here it is, I hope.")
    assert portal.state(ticket) == ("waiting_log_file", None)
    [missing] = portal.events(ticket, "reply_without_answers")
    assert missing.payload["missing"] == ["log_file"]
    assert "without answering Log file" in missing.summary
    assert "What the license team needs from you" in portal.page(ticket)


def test_an_email_reply_to_questions_all_optional_moves_the_ticket(portal: Portal) -> None:
    ticket = portal.file("general", token=None, description="Which region?")
    portal.act(ticket, "ask_customer", question="Which one?")
    reply_by_email(portal, ticket, "eu-west-1")
    assert portal.state(ticket) == ("received", None)
    assert portal.events(ticket, "reply_without_answers") == []


def test_a_page_that_asks_nothing_takes_a_message_with_attachments(portal: Portal) -> None:
    ticket = portal.file("general", token=None, description="Our server stopped syncing.")
    files = [(io.BytesIO(LOG), "server.log", "text/plain"), (io.BytesIO(b""), "", "text/plain")]
    response = post(portal, ticket, {"message": "The log is attached.", "attachments": files})
    assert response.status_code == 303, response.text
    with portal.runtime.db.transaction() as session:
        [message] = session.scalars(
            select(Message).where(Message.direction == Direction.INBOUND)
        ).all()
        kept = [(item["name"], item["size"]) for item in message.attachments]
    assert kept == [("server.log", len(LOG))], "an empty file input sends no file"
