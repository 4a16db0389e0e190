"""Inline RFC 822 samples for parse_message, classify and extract_reply.

The corpus test measures breadth; these pin the behaviours the intake depends on, with
messages small enough to read in the test.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC

import pytest

from ticketbridge.intake.email.loops import classify
from ticketbridge.intake.email.parse import decode_header_value, parse_message
from ticketbridge.intake.email.reply import extract_reply


def msg(headers: str, body: str = "Hello\r\n") -> bytes:
    return (headers.strip().replace("\n", "\r\n") + "\r\n\r\n" + body).encode()


def test_encoded_word_subject_and_sender_name() -> None:
    raw = msg(
        """
From: =?ISO-8859-1?Q?Andr=E9?= <Andre@Example.COM>
To: a@example.com, "B, Person" <b@example.com>
Subject: =?utf-8?B?TGl6ZW56IMOEbmRlcnVuZw==?= =?utf-8?Q?_f=C3=BCr?= Kunde
Message-ID:   <abc@example.com>\x20\x20
In-Reply-To: <parent@example.com>
References: <root@example.com> <parent@example.com>
Date: Mon, 3 Jun 2024 10:00:00 +0200
"""
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Lizenz Änderung für Kunde"
    assert (parsed.from_name, parsed.from_address) == ("André", "andre@example.com")
    assert parsed.to == ("a@example.com", "b@example.com")
    assert parsed.message_id == "<abc@example.com>"
    assert parsed.in_reply_to == "<parent@example.com>"
    assert parsed.references == ("<root@example.com>", "<parent@example.com>")
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert parsed.text == "Hello\r\n"
    assert parsed.content_hash == hashlib.sha256(raw).hexdigest()


def test_html_only_mail_gets_text_and_sanitised_html() -> None:
    raw = msg(
        "From: a@example.com\nSubject: html\nContent-Type: text/html; charset=utf-8",
        "<div>Hello <b>team</b></div><div><br></div><div>Token&nbsp;ABC</div>"
        "<script>alert(1)</script><p onclick='x()'>Bye</p>",
    )
    parsed = parse_message(raw)
    assert parsed.text == "Hello team\n\nToken ABC\nBye"
    assert parsed.html is not None
    assert "script" not in parsed.html and "onclick" not in parsed.html
    assert "<b>team</b>" in parsed.html


def test_attachment_with_non_ascii_filename() -> None:
    raw = msg(
        "From: a@example.com\nSubject: files\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b1"',
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached\r\n"
        "--b1\r\nContent-Type: text/plain\r\n"
        "Content-Disposition: attachment; filename*=utf-8''ci%C3%ABle.txt\r\n\r\nhallo\r\n"
        "--b1\r\nContent-Type: application/octet-stream; "
        'name="=?utf-8?Q?r=C3=A9sum=C3=A9.pdf?="\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b1--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "See attached"
    names = [(a.filename, a.payload) for a in parsed.attachments]
    assert names == [("ciële.txt", b"hallo"), ("résumé.pdf", b"%PDF")]


def test_header_with_cr_lf_garbage_and_raw_8bit_bytes() -> None:
    raw = (
        b"From: J\xc3\xbcrgen <j@example.com>\r\n"
        b"Subject: broken\rheader\n\r\n\tcontinued\r\n"
        b"To: <a@example.com>\r\r\n"
        b"X-Junk: \x00\xff\xfe\r\n"
        b"\r\nbody\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.from_name == "Jürgen"
    assert parsed.from_address == "j@example.com"
    assert parsed.subject.startswith("broken")
    assert "\r" not in parsed.subject and "\n" not in parsed.subject


def test_unknown_and_legacy_charsets_are_decoded_not_raised() -> None:
    raw = (
        b"From: a@example.com\r\n"
        b"Subject: =?unicode-1-1-utf-7?Q?+ANw-bermittlung?= =?x-klingon?Q?abc?=\r\n"
        b"Content-Type: text/plain; charset=ks_c_5601-1987\r\n\r\n" + "스티해".encode("cp949")
    )
    parsed = parse_message(raw)
    assert parsed.subject.startswith("Übermittlung")
    assert parsed.text == "스티해"
    assert any(d.startswith("UnknownCharsetDefect") for d in parsed.defects)


def test_undecodable_8bit_attachment_still_parses() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: bin\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
        b"--zz\r\nContent-Type: text/plain; charset=bogus-charset\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9 \xff\xfe\r\n"
        b"--zz\r\nContent-Type: application/octet-stream; name=blob.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n\x80\x81 not base64 !!!\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text.startswith("Caf")
    assert [a.filename for a in parsed.attachments] == ["blob.bin"]
    assert isinstance(parsed.attachments[0].payload, bytes)
    assert parsed.defects


def test_undeclared_boundary_is_recovered() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/alternative; boundary=----=_Part_1\r\n\r\n"
        b"------=_Part_1\r\nContent-Type: text/plain\r\n\r\nplain text\r\n------=_Part_1--\r\n"
    )
    assert parse_message(raw).text == "plain text"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff" * 50,
        b"\r\n\r\n",
        os.urandom(2048),
        b"Content-Type: multipart/mixed\r\n\r\n--\r\n--\r\n",
    ],
)
def test_never_raises(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert parsed.content_hash == hashlib.sha256(raw).hexdigest()


def test_decode_header_value_is_total() -> None:
    assert decode_header_value(None) == ""
    assert decode_header_value("=?x-unknown-cs?Q?caf=E9?=") == "café"
    assert decode_header_value("plain\r\n  folded") == "plain folded"


def test_auto_reply_is_detected() -> None:
    parsed = parse_message(
        msg(
            "From: b@example.com\nSubject: Automatic reply: your ticket\n"
            "Auto-Submitted: auto-replied"
        )
    )
    automation = classify(parsed)
    assert automation.kind == "autoreply"
    assert "Auto-Submitted" in automation.reason
    subject_only = parse_message(msg("From: b@example.com\nSubject: Out of Office: back Monday"))
    assert classify(subject_only).kind == "autoreply"
    human = parse_message(msg("From: b@example.com\nSubject: Re: your ticket"))
    assert classify(human).kind == "human"


def test_dsn_bounce_carries_our_message_id() -> None:
    raw = msg(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        "To: licenses@ticketbridge.test\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        "--r\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\n"
        "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "From: licenses@ticketbridge.test\r\nTo: gone@customer.example\r\n"
        "Message-ID: <ticket-42.outcome@ticketbridge.test>\r\nSubject: Your license\r\n"
        "--r--\r\n",
    )
    automation = classify(parse_message(raw))
    assert (automation.kind, automation.bounce_kind, automation.status) == (
        "bounce",
        "hard",
        "5.1.1",
    )
    assert automation.original_message_id == "<ticket-42.outcome@ticketbridge.test>"


def test_feedback_report_is_a_complaint_not_a_bounce() -> None:
    raw = msg(
        "From: abuse@isp.example\nSubject: FW: spam\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="f"',
        "--f\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report\r\n"
        "--f\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
        "--f\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <m1@ticketbridge.test>\r\n\r\n"
        "hi\r\n"
        "--f--\r\n",
    )
    automation = classify(parse_message(raw))
    assert automation.kind == "complaint"
    assert automation.original_message_id == "<m1@ticketbridge.test>"


def test_date_without_zone_is_utc() -> None:
    parsed = parse_message(msg("From: a@example.com\nDate: Mon, 3 Jun 2024 10:00:00 -0000"))
    assert parsed.date is not None and parsed.date.tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Thanks, done.\n\nOn Mon, Jun 3, 2024 at 10:00 AM Team <t@x.com> wrote:\n> old\n",
            "Thanks, done.",
        ),
        ("Danke!\n\nAm 03.06.2024 um 10:00 schrieb Team <t@x.com>:\n> alt\n", "Danke!"),
        (
            "Yes please.\n\n-----Original Message-----\nFrom: Team\nSent: Monday\n\nold text\n",
            "Yes please.",
        ),
        (
            "Approved.\n\nFrom: Team <t@x.com>\nSent: Monday, June 3, 2024\nTo: me\n\nold\n",
            "Approved.",
        ),
        ("Token is ABC.\n\nBest regards,\nJane Doe\n", "Token is ABC."),
        (
            "Hi,\nOn Tue, 2024-06-04 at 10:00 +0200, Team wrote:\n> question one?\n\n"
            "Here is my answer to question one.\n",
            "Hi,\nHere is my answer to question one.",
        ),
    ],
)
def test_extract_reply(text: str, expected: str) -> None:
    assert extract_reply(text) == expected


def test_extract_reply_from_html_only() -> None:
    html = (
        "<div>Fine, thanks.</div><div class='gmail_quote'>On Mon, Jun 3, 2024 at 10:00 "
        "Team &lt;t@x.com&gt; wrote:<blockquote>old</blockquote></div>"
    )
    assert extract_reply("", html) == "Fine, thanks."
