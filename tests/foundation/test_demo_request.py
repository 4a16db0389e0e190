"""The thin path on the embedded default (in-process jobs, mail in a folder), on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.foundation.helpers import (
    DEMO_FORM,
    LINK,
    kept_emails,
    local_path,
    post_demo,
    text_part,
    visible_text,
)
from ticketbridge.app import create_app
from ticketbridge.licenses.models import License, LicenseState
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket, TicketEvent


@pytest.fixture
def client(runtime: Runtime):
    return create_app(runtime=runtime).test_client()


def test_demo_form_asks_for_r1_fields(client) -> None:
    page = client.get("/requests/demo")
    assert page.status_code == 200
    for name in ("token", "customer_name", "customer_email", "accept_conditions", "submission_id"):
        assert f'name="{name}"' in page.text


def test_r3_demo_request_creates_ticket_applies_bundle_and_emails_the_outcome(
    client, runtime: Runtime
) -> None:
    response = post_demo(client)
    assert response.status_code == 303

    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        license = session.scalars(select(License)).one()
        kinds = [e.kind for e in session.scalars(select(TicketEvent).order_by(TicketEvent.id))]
        assert (ticket.state, ticket.outcome, ticket.reference) == (
            "demo_active",
            "completed",
            "LIC-000001",
        )
        assert license.state == LicenseState.TRIAL
        assert license.entitlements["agents"] == 3 and license.entitlements["admins"] == 1
        assert (
            license.entitlements["telephones"] == 1 and license.entitlements["mobile_agents"] == 1
        )
        assert license.entitlements["webrtc"] == 1 and license.entitlements["windows_phonebar"] == 1
        assert license.entitlements["ai_agent_assistants"] == 1
        assert license.expires_at - license.activated_at == dt.timedelta(days=30)
        assert kinds == ["created", "transition", "email_queued", "email_sent"]
        assert session.scalars(select(OutboxEmail.status)).one() == OutboxStatus.SENT

    [email] = kept_emails(runtime.settings.mail_folder)
    assert email["Subject"] == "[LIC-000001] Your 30-day XCALLY demo is active (SRV-7f3a9c2e51)"
    assert email["To"] == "Acme Contact Center <ops@acme.example>"
    body = text_part(email)
    assert "the 30-day free demo is active on\nserver token SRV-7f3a9c2e51" in body
    link = LINK.search(body).group(1)
    assert response.headers["Location"] == link
    html = email.get_body(("html",)).get_content()
    assert f'href="{link}"' in html and "CLICK HERE TO REPLY" in html

    page = client.get(local_path(link))
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Ticket LIC-000001" in text
    assert "Closed: completed" in text
    assert "trial until" in text


def test_tampered_or_wrong_link_is_404(client, runtime: Runtime) -> None:
    link = post_demo(client).headers["Location"]
    path = local_path(link)
    token = path.removeprefix("/t/")
    assert client.get(path).status_code == 200
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/t/{flipped}").status_code == 404
    assert client.get(f"/t/{runtime.links.ticket_token(999)}").status_code == 404
    assert client.get("/t/1").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"token": None}, "token", "License token is required"),
        ({"customer_name": "  "}, "customer_name", "Customer name / reference is required"),
        ({"customer_email": "ops@"}, "customer_email", "not a valid email address"),
        ({"customer_email": "ops.acme.example"}, "customer_email", "not a valid email address"),
        (
            {"accept_conditions": None},
            "accept_conditions",
            "the conditions and the License Agreement must be accepted",
        ),
        ({"token": "short"}, "token", "not a license token"),
    ],
)
def test_r1_bad_input_rerenders_the_form_with_the_message_at_the_field(
    client, runtime: Runtime, changes, field, message
) -> None:
    response = post_demo(client, **changes)
    assert response.status_code == 422
    field_html = response.text.split(f'id="field-{field}"', 1)[1].split('<div class="field', 1)[0]
    assert message in field_html.replace("&#39;", "'")
    kept = {
        k: v
        for k, v in {**DEMO_FORM, **changes}.items()
        if k != "accept_conditions" and v and v.strip()
    }
    for value in kept.values():
        assert f'value="{value}"' in response.text
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert session.scalar(select(func.count()).select_from(License)) == 0


def test_r2_second_demo_for_an_active_token_is_refused_with_the_reason(
    client, runtime: Runtime
) -> None:
    post_demo(client)
    second = post_demo(client, customer_email="someone.else@acme.example")
    page = visible_text(client.get(local_path(second.headers["Location"])).text)
    assert "Closed: rejected" in page
    assert "only possible while the server token is not active yet" in page
    with runtime.db.transaction() as session:
        license = session.scalars(select(License)).one()
        assert license.state == LicenseState.TRIAL
        assert len(license.changes) == len(runtime.catalogue.demo_bundle())
    refusal = kept_emails(runtime.settings.mail_folder)[-1]
    assert refusal["To"].addresses[0].addr_spec == "someone.else@acme.example"
    assert (
        "Reason: A new activation is only possible while the server token is not active yet"
        in text_part(refusal)
    )


def test_the_same_submission_twice_creates_one_ticket(client, runtime: Runtime) -> None:
    first = post_demo(client, submission_id="4b1f0c8e9d2a")
    again = post_demo(client, submission_id="4b1f0c8e9d2a")
    assert first.headers["Location"] == again.headers["Location"]
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert len(kept_emails(runtime.settings.mail_folder)) == 1


def test_a_name_with_line_breaks_never_reaches_a_header(client, runtime: Runtime) -> None:
    post_demo(client, customer_name="Eve\r\nBcc: victim@example.com")
    [email] = kept_emails(runtime.settings.mail_folder)
    assert email["Bcc"] is None
    assert email["To"].addresses[0].display_name == "Eve Bcc: victim@example.com"


def test_unknown_request_type_is_404(client) -> None:
    assert client.get("/requests/teleport").status_code == 404


def test_support_page_leads_to_the_general_request(client) -> None:
    page = client.get("/support")
    assert page.status_code == 200
    assert 'href="/requests/general"' in page.text
    assert client.get("/requests/general").status_code == 200


def test_the_demo_form_says_what_the_demo_includes(client) -> None:
    intro = client.get("/requests/demo").text.split('<p class="intro">', 1)[1].split("</p>", 1)[0]
    assert "3 voice digital agents, 1 administrator, 1 telephone" in " ".join(intro.split())
