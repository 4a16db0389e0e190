"""Issue 8 item 17: a general request filed on the web gets its receipt with the ticket link
(R19); license tokens are not case-sensitive, so R2 holds whatever case a token is typed in."""

from __future__ import annotations

from sqlalchemy import select

from tests.foundation.helpers import (
    GENERAL_FORM,
    LINK,
    kept_emails,
    local_path,
    post_demo,
    submit,
    text_part,
    visible_text,
)
from ticketbridge.licenses.models import License, LicenseState
from ticketbridge.tickets.models import Ticket


def test_r19_a_general_request_from_the_web_gets_a_receipt_with_its_link(client, runtime) -> None:
    response = submit(client, "/requests/general", GENERAL_FORM)
    assert response.status_code == 303
    [receipt] = kept_emails(runtime.settings.mail_folder)
    assert receipt["To"].addresses[0].addr_spec == "ops@acme.example"
    link = LINK.search(text_part(receipt)).group(1)
    assert link == response.headers["Location"]
    page = visible_text(client.get(local_path(link)).text)
    assert "Ticket LIC-000001" in page


def test_r2_a_token_in_another_case_is_the_same_license_and_gets_no_second_demo(
    client, runtime
) -> None:
    post_demo(client, token="token-acme-0001")
    post_demo(client, token="TOKEN-ACME-0001", customer_email="someone.else@acme.example")
    with runtime.db.transaction() as session:
        [license] = session.scalars(select(License)).all()
        outcomes = session.scalars(select(Ticket.outcome).order_by(Ticket.id)).all()
        assert license.token == "token-acme-0001" and license.state == LicenseState.TRIAL
    assert outcomes == ["completed", "rejected"]
