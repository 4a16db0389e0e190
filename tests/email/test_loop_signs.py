"""Every loop sign in use makes a mail automatic (never answered, never moving a workflow), and
X-Auto-Response-Suppress is a request not to answer a person, not a sign of a machine."""

from __future__ import annotations

import pytest

from tests.mail.mailbuild import email
from ticketbridge.intake.email.loops import classify
from ticketbridge.intake.email.parse import parse_message

MACHINE_SIGNS = {
    "Auto-Submitted auto-replied": {"Auto-Submitted": "auto-replied"},
    "Auto-Submitted auto-generated": {"Auto-Submitted": "auto-generated"},
    "X-Loop": {"X-Loop": "helpdesk@vendor.example"},
    "X-Autoreply": {"X-Autoreply": "yes"},
    "X-Autorespond": {"X-Autorespond": "Out of office"},
    "X-Autoresponder": {"X-Autoresponder": "1"},
    "X-AutoReply-From": {"X-AutoReply-From": "a@acme.example"},
    "X-Mail-Autoreply": {"X-Mail-Autoreply": "yes"},
    "Precedence bulk": {"Precedence": "bulk"},
    "Precedence junk": {"Precedence": "junk"},
    "Precedence list": {"Precedence": "list"},
    "List-Id": {"List-Id": "<customers.lists.acme.example>"},
    "List-Unsubscribe": {"List-Unsubscribe": "<mailto:leave@acme.example>"},
    "Exchange inbox rule": {"X-MS-Exchange-Inbox-Rules-Loop": "ops@acme.example"},
    "Exchange generated": {"X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"},
    "null sender": {"Return-Path": "<>"},
}
MACHINE_SENDERS = (
    "noreply@acme.example",
    "no-reply@acme.example",
    "do-not-reply@acme.example",
    "DoNotReply@acme.example",
    "MAILER-DAEMON@mx.acme.example",
)


def verdict(headers: dict[str, str], sender: str = "Olga <ops@acme.example>"):
    return classify(parse_message(email(sender=sender, subject="Our license", headers=headers)))


@pytest.mark.parametrize("headers", MACHINE_SIGNS.values(), ids=MACHINE_SIGNS.keys())
def test_every_loop_header_makes_a_mail_automatic(headers: dict[str, str]) -> None:
    result = verdict(headers)
    assert result.kind != "human" and not result.answerable, result


@pytest.mark.parametrize("sender", MACHINE_SENDERS)
def test_senders_that_take_no_replies_are_machines(sender: str) -> None:
    assert not verdict({}, sender).answerable


@pytest.mark.parametrize("value", ["All", "AutoReply", "DR, OOF, AutoReply"])
def test_a_request_for_no_automatic_answer_is_still_a_persons_mail(value: str) -> None:
    result = verdict({"X-Auto-Response-Suppress": value})
    assert result.kind == "human" and not result.answerable
    assert "X-Auto-Response-Suppress" in (result.no_receipt or "")


@pytest.mark.parametrize(
    "headers", [{}, {"X-Auto-Response-Suppress": "OOF, DR"}, {"Auto-Submitted": "no"}]
)
def test_a_persons_mail_is_answered(headers: dict[str, str]) -> None:
    assert verdict(headers).answerable
