"""Issue 8.1: what a customer writes is data, never header syntax, on every way into a header.

Each test judges the produced bytes as a receiver does: the kept .eml file or what a real
aiosmtpd server received, parsed by the standard library. An injected header, recipient or body
shows as an extra header, a second address or an extra MIME part.
"""

from __future__ import annotations

import base64
import datetime as dt
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from tests.foundation.helpers import kept_emails, post_demo
from tests.outbox.mailin import inbound, ingest
from ticketbridge.app import create_app
from ticketbridge.errors import UnsafeHeader
from ticketbridge.mailpolicy import SMTP
from ticketbridge.outbox.compose import Draft, compose_drafts
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.outbox.render import RenderedEmail
from ticketbridge.tickets.models import Ticket, TicketEvent

EVIL = "mallory@evil.example"
HEADERS = [
    "subject",
    "from",
    "to",
    "reply-to",
    "date",
    "message-id",
    "auto-submitted",
    "x-auto-response-suppress",
    "x-ticketbridge-reference",
    "mime-version",
    "content-type",
]
REPLY_HEADERS = [*HEADERS[:6], "in-reply-to", "references", *HEADERS[6:]]


def _b(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def _q(text: str) -> str:
    """Q encoding as RFC 2047 allows it in a phrase: every byte but letters and digits escaped."""
    body = "".join(chr(b) if chr(b).isalnum() else f"={b:02X}" for b in text.encode())
    return f"=?utf-8?q?{body}?="


# What the name decodes to: each would write a Reply-To, a Bcc, a Content-Type or a whole new
# body if it reached a header as syntax.
ATTACKS = {
    "CR LF reply-to": f"Support\r\nReply-To: {EVIL}",
    "CR LF bcc": f"Support\r\nBcc: {EVIL}",
    "lone CR": f"Support\rBcc: {EVIL}",
    "lone LF": f"Support\nBcc: {EVIL}",
    "NUL": f"Support\x00Bcc: {EVIL}",
    "U+2028": f"Support\u2028Bcc: {EVIL}",
    "U+2029 and NEL": f"Support\u2029\x85Bcc: {EVIL}",
    "folded": f"Support\r\n Bcc: {EVIL}",
    "content-type": "X\r\nContent-Type: text/html\r\n\r\n<h1>pay here</h1>",
    "new MIME body": (
        "X\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        "Content-Type: text/html\r\n\r\n<a href=https://evil.example>pay</a>\r\n--b--"
    ),
    "encoded word inside": f"=?utf-8?q?X=0D=0ABcc:_{EVIL}?=",
    "quote and comma": f'X" <{EVIL}>, "Y',
}
# What a hostile customer types into a web form's name field (no raw control character, which
# the form refuses): encoded words, in both encodings, folded, and encoded twice.
ENCODED_NAMES = {
    "q as in the issue": f"=?utf-8?q?Support=0D=0AReply-To:_{EVIL}?=",
    "b bcc": _b(f"Support\r\nBcc: {EVIL}"),
    "upper-case Q, lone LF": f"=?UTF-8?Q?Support=0ABcc:_{EVIL}?=",
    "lone CR": f"=?utf-8?q?Support=0DBcc:_{EVIL}?=",
    "two encoded words": f"=?utf-8?q?Sup?= =?utf-8?q?port=0D=0ABcc:_{EVIL}?=",
    "NUL": f"=?utf-8?q?Support=00Bcc:_{EVIL}?=",
    "U+2028": _b(f"Support\u2028Bcc: {EVIL}"),
    "content-type": _q(ATTACKS["content-type"]),
    "new MIME body": _b(ATTACKS["new MIME body"]),
    "encoded twice": _q(ATTACKS["encoded word inside"]),
    "to smuggling": f'=?utf-8?q?X"_<{EVIL}>,_"Y?=',
}
# An inbound From display name: each attack encoded as a mail client would, b and q, and one
# split over a folded header line.
INBOUND_NAMES = {
    **{f"b {key}": _b(text) for key, text in ATTACKS.items()},
    **{f"q {key}": _q(text) for key, text in ATTACKS.items()},
    "folded encoded words": (
        "=?utf-8?q?Sup?=\r\n =?utf-8?q?port=0D=0ABcc=3A_mallory=40evil.example?="
    ),
}
RAW_NAMES = {
    **{f"raw {key}": text for key, text in ATTACKS.items()},
    **{f"typed {key}": text for key, text in ENCODED_NAMES.items()},
}


def assert_only_what_we_wrote(message: EmailMessage, to: str, headers: list[str]) -> None:
    """The headers we write, in order, one recipient, our Reply-To, our two MIME parts."""
    assert [name.lower() for name in message.keys()] == headers
    assert [a.addr_spec for a in message["To"].addresses] == [to]
    assert [a.addr_spec for a in message["Reply-To"].addresses][0].startswith("support+LIC-")
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    display = message["To"].addresses[0].display_name
    assert "\r" not in display and "\n" not in display and "\x00" not in display
    assert "=?" not in display, "an encoded word must not be decoded a second time"


def eml_files(runtime) -> list[EmailMessage]:
    return kept_emails(runtime.settings.mail_folder)


@pytest.mark.parametrize("name", ENCODED_NAMES.values(), ids=ENCODED_NAMES.keys())
def test_r1_form_name_with_encoded_words_is_data_in_the_kept_eml(runtime, name) -> None:
    response = post_demo(create_app(runtime=runtime).test_client(), customer_name=name)
    assert response.status_code == 303, response.text
    [message] = eml_files(runtime)
    assert_only_what_we_wrote(message, "ops@acme.example", HEADERS)


def test_form_names_reach_a_real_smtp_server_as_data(make_runtime, db_url, transcript_server):
    runtime = make_runtime(
        database_url=db_url, smtp_host=transcript_server.host, smtp_port=transcript_server.port
    )
    client = create_app(runtime=runtime).test_client()
    for number, name in enumerate(ENCODED_NAMES.values()):
        response = post_demo(
            client,
            customer_name=name,
            customer_email=f"ops{number}@acme.example",
            token=f"SRV-injection-{number:02d}",
        )
        assert response.status_code == 303, response.text

    received = transcript_server.wait_for(len(ENCODED_NAMES))
    for number, message in enumerate(received):
        assert_only_what_we_wrote(message, f"ops{number}@acme.example", HEADERS)
    assert transcript_server.transcript == [
        command
        for number in range(len(ENCODED_NAMES))
        for command in (
            "MAIL <license@tickets.test>",
            f"RCPT <ops{number}@acme.example>",
            "DATA",
        )
    ], "one recipient per email, nothing smuggled into the envelope"


@pytest.mark.parametrize("name", INBOUND_NAMES.values(), ids=INBOUND_NAMES.keys())
def test_inbound_from_display_name_is_decoded_once_and_stays_data(runtime, name) -> None:
    ingest(runtime, inbound(f"{name} <eve@acme.example>"))
    [receipt] = eml_files(runtime)
    assert_only_what_we_wrote(receipt, "eve@acme.example", REPLY_HEADERS)
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert "\r" not in ticket.customer_name and "\n" not in ticket.customer_name
        assert "=?" not in ticket.customer_name and "=?" not in ticket.customer.name


def draft(to_name: str, subject: str = "Hello", thread: tuple[str, ...] = ()) -> Draft:
    return Draft(
        rendered=RenderedEmail(subject=subject, text=f"Dear {to_name},", html="<p>Dear</p>"),
        reference="LIC-000001",
        mail_from="XCALLY License Team <license@tickets.test>",
        to_address="ops@acme.example",
        to_name=to_name,
        reply_to="support+LIC-000001.abc@tickets.test",
        message_id="<1.LIC-000001@tickets.test>",
        thread=thread,
        now=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize("value", RAW_NAMES.values(), ids=RAW_NAMES.keys())
def test_every_header_value_is_one_line_of_data_in_the_bytes_we_write(value) -> None:
    """Names, subjects and the thread's Message-IDs (an inbound one is the sender's choice)."""
    [composed] = compose_drafts(
        [draft(value, subject=f"About {value}", thread=(f"<a@b>{value}", "<ok@acme.example>"))]
    )
    assert composed.refused is None
    message = message_from_bytes(composed.raw, policy=policy.default)
    assert_only_what_we_wrote(message, "ops@acme.example", REPLY_HEADERS)
    assert message["References"] == "<ok@acme.example>"
    head = composed.raw.split(b"\r\n\r\n")[0]
    assert b"\x00" not in head and all(
        line[:1] in b" \t" or b":" in line for line in head.split(b"\r\n")
    )


def test_the_writing_policy_refuses_a_header_that_would_not_parse_back() -> None:
    """Our own verify_generated_headers: it holds on interpreters without the CVE fix."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = "x"
    message._headers[0] = ("Subject", f"x\r\nBcc: {EVIL}")  # as CVE-2024-6923 writes it
    with pytest.raises(UnsafeHeader, match="Subject header would not parse back"):
        message.as_bytes()


def test_an_email_that_would_not_parse_back_is_failed_alone(runtime, monkeypatch) -> None:
    """If the email package ever writes a header we did not mean, that email is refused and
    recorded as failed; the request and every other email go on."""
    from ticketbridge.outbox import compose as compose_module

    real = compose_module.compose

    def smuggling(*args, **kwargs):
        message = real(*args, **kwargs)
        if kwargs["to_address"] == "victim@acme.example":
            message.__class__ = _Smuggler
        return message

    monkeypatch.setattr(compose_module, "compose", smuggling)
    client = create_app(runtime=runtime).test_client()
    assert post_demo(client, customer_email="victim@acme.example").status_code == 303
    assert post_demo(client, token="SRV-second-0001").status_code == 303

    with runtime.db.transaction() as session:
        rows = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
        assert [(r.recipient, r.status) for r in rows] == [
            ("victim@acme.example", OutboxStatus.FAILED),
            ("ops@acme.example", OutboxStatus.SENT),
        ]
        assert "unsafe to write" in rows[0].last_error and "bcc" in rows[0].last_error
        failed = session.scalars(
            select(TicketEvent).where(TicketEvent.kind == "email_failed")
        ).one()
        assert failed.ticket_id == rows[0].message.ticket_id
    [kept] = eml_files(runtime)
    assert kept["To"].addresses[0].addr_spec == "ops@acme.example"


class _Smuggler(EmailMessage):
    """Serialises with one header more than it holds, as a broken email package would."""

    def as_bytes(self, *args, **kwargs) -> bytes:
        raw = super().as_bytes(*args, **kwargs)
        return raw.replace(b"\r\nTo:", f"\r\nBcc: {EVIL}\r\nTo:".encode(), 1)
