"""Bad input, generated: whatever bytes arrive as mail are parsed without a crash and stored.

Hypothesis builds hostile messages (encoded words that decode to CR LF, NUL and 8-bit bytes in
headers, unknown charsets, broken and nested MIME, mutated real-world mails from the shared
corpus). The promises under test are the intake's: `parse_message` never raises, and every
distinct delivery ends up stored, answered or quarantined — never lost, never stored twice.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bench.email_reply_libraries import corpus_dir
from ticketbridge.intake.email.ingest import FetchedMail, Outcome
from ticketbridge.intake.email.parse import ParsedEmail, parse_message
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus
from ticketbridge.runtime import Runtime

CORPUS = corpus_dir()
MAILBOX = "fuzz@tickets.test"
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

# Header values an attacker or a broken mailer sends: encoded words hiding CR LF, bare CR or
# LF, NUL, 8-bit bytes, over-long runs, unknown charsets, and the address syntax that tricks
# naive splitting.
NASTY_PIECES = [
    b"=?utf-8?q?Support=0D=0AReply-To:_mallory@evil.example?=",
    b"=?utf-8?b?U3VwcG9ydA0KQmNjOiBldmVAZXZpbC5leGFtcGxl?=",
    b"=?x-unknown?q?=FF=FE?=",
    b"=?utf-8?q?unterminated",
    b"\r",
    b"\n",
    b"\x00",
    b"\xff\xfe\xc3\x28",
    b'"quoted, name" <a@b.example>',
    b"<>",
    b"%@%",
    b"\xe2\x80\xa8",
    b"A" * 2000,
]
HEADER_NAMES = [
    b"From",
    b"To",
    b"Cc",
    b"Reply-To",
    b"Subject",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"Date",
    b"Content-Type",
    b"Content-Transfer-Encoding",
    b"Auto-Submitted",
    b"X-Loop",
    b"Precedence",
]
CONTENT_TYPES = [
    b"text/plain; charset=utf-8",
    b"text/plain; charset=x-does-not-exist",
    b"text/html; charset=iso-8859-1",
    b'multipart/mixed; boundary="b"',
    b'multipart/alternative; boundary="b"',
    b"multipart/mixed",
    b'message/rfc822; boundary="b"',
    b"application/octet-stream; name==?utf-8?q?=0D=0Aevil?=",
]

header_value = st.lists(
    st.one_of(st.sampled_from(NASTY_PIECES), st.binary(max_size=40)), min_size=0, max_size=4
).map(b"".join)
header = st.tuples(st.sampled_from(HEADER_NAMES), header_value).map(lambda h: h[0] + b": " + h[1])
body_part = st.tuples(st.sampled_from(CONTENT_TYPES), st.binary(max_size=300)).map(
    lambda p: b"--b\r\nContent-Type: " + p[0] + b"\r\n\r\n" + p[1] + b"\r\n"
)
generated_mail = st.builds(
    lambda headers, content_type, parts, closing: (
        b"\r\n".join(headers)
        + b"\r\nContent-Type: "
        + content_type
        + b"\r\n\r\n"
        + b"".join(parts)
        + closing
    ),
    st.lists(header, max_size=12),
    st.sampled_from(CONTENT_TYPES),
    st.lists(body_part, max_size=4),
    st.sampled_from([b"--b--\r\n", b"", b"--b", b"--c--\r\n"]),
)


def corpus_mails() -> list[bytes]:
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in {".eml", ".txt"})
    if not paths:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared email corpus is missing at {CORPUS}", pytrace=False)
        pytest.skip(f"the shared email corpus is missing at {CORPUS}")
    return [p.read_bytes() for p in paths]


@st.composite
def mutated(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    """A real mail cut short, with bytes flipped or a nasty piece spliced in."""
    raw = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(0, 6))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        match draw(st.sampled_from(["flip", "splice", "cut"])):
            case "flip":
                raw[at] ^= draw(st.integers(1, 255))
            case "splice":
                raw[at:at] = draw(st.sampled_from(NASTY_PIECES))
            case "cut":
                del raw[at:]
    return bytes(raw)


def assert_parsed(parsed: ParsedEmail) -> None:
    """Every field has a value of its declared type, whatever came in."""
    assert isinstance(parsed.subject, str) and isinstance(parsed.text, str)
    assert isinstance(parsed.from_address, str) and isinstance(parsed.from_name, str)
    assert all(isinstance(a, str) for a in (*parsed.to, *parsed.cc, *parsed.reply_to))
    assert len(parsed.content_hash) == 64


@settings(max_examples=200, deadline=None)
@given(generated_mail)
def test_generated_mail_parses_without_raising(raw: bytes) -> None:
    assert_parsed(parse_message(raw))


def test_mutated_corpus_mail_parses_without_raising() -> None:
    originals = corpus_mails()

    @settings(max_examples=200, deadline=None)
    @given(mutated(originals))
    def check(raw: bytes) -> None:
        assert_parsed(parse_message(raw))

    check()


def test_every_generated_delivery_is_kept_exactly_once(runtime: Runtime) -> None:
    """Each delivery is stored, answered or quarantined (a row of its own), unless the very same
    bytes were delivered before; fetching the same deliveries again adds nothing."""
    originals = corpus_mails()
    uids = iter(range(1, 10_000_000))
    delivered: set[bytes] = set()

    def ingest(mails: list[FetchedMail]) -> list[Outcome]:
        with runtime.db.transaction() as session:
            return runtime.ingestor(MAILBOX).ingest(session, mails, NOW)

    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(st.one_of(generated_mail, mutated(originals)), min_size=1, max_size=4))
    def check(batch: list[bytes]) -> None:
        mails = [FetchedMail("INBOX", next(uids), raw) for raw in batch]
        first = ingest(mails)
        assert [o.uid for o in first] == [m.uid for m in mails]
        with runtime.db.transaction() as session:
            kept = set(session.scalars(select(InboundEmail.uid)))
        for mail, outcome in zip(mails, first, strict=True):
            if outcome.status is InboundStatus.DUPLICATE:
                assert mail.raw in delivered, f"new content dropped as a duplicate: {outcome}"
            else:
                assert mail.uid in kept, f"UID {mail.uid} left no row: {outcome}"
            delivered.add(mail.raw)
        with runtime.db.transaction() as session:
            before = session.scalar(select(func.count()).select_from(InboundEmail))
        again = ingest(mails)
        assert {o.status for o in again} == {InboundStatus.DUPLICATE}
        with runtime.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(InboundEmail)) == before

    check()


def test_an_overlong_message_id_is_stored_not_lost(runtime: Runtime) -> None:
    """Found by the fuzzer above on PostgreSQL: a 2,000-character Message-ID overflowed the
    dedupe key column, and the quarantine row too, so the mail could not be stored at all."""
    long_id = "<" + "x" * 2000 + "@evil.example>"
    raw = (
        f"From: a@acme.example\r\nTo: license@tickets.test\r\nSubject: hello\r\n"
        f"Message-ID: {long_id}\r\nReferences: {long_id}\r\n\r\nHello\r\n"
    ).encode()
    with runtime.db.transaction() as session:
        [outcome] = runtime.ingestor(MAILBOX).ingest(session, [FetchedMail("INBOX", 1, raw)], NOW)
    assert outcome.status is InboundStatus.STORED
    with runtime.db.transaction() as session:
        row = session.scalars(select(InboundEmail)).one()
        assert row.header_message_id is None and row.raw == raw


def test_nul_characters_in_headers_are_stored_not_lost(runtime: Runtime) -> None:
    """Found by the fuzzer above on PostgreSQL: a NUL in the From header failed the batch's
    customer lookup, and the retry then collided with its own quarantine row."""
    raw = (
        b"From: Ev\x00e <e\x00ve@acme.example>\r\nTo: license@tickets.test\r\n"
        b"Subject: log\x00 file\r\nMessage-ID: <nul\x00@acme.example>\r\n\r\nbody\x00 text\r\n"
    )
    mails = [FetchedMail("INBOX", 1, raw), FetchedMail("INBOX", 2, raw)]
    with runtime.db.transaction() as session:
        first, second = runtime.ingestor(MAILBOX).ingest(session, mails, NOW)
    assert first.status is not InboundStatus.DUPLICATE
    assert second.status is InboundStatus.DUPLICATE
    parsed = parse_message(raw)
    assert "\x00" not in parsed.from_name + parsed.from_address + parsed.subject + parsed.text
    with runtime.db.transaction() as session:
        assert session.scalars(select(InboundEmail.raw)).one() == raw
