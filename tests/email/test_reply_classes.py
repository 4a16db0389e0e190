"""Reply-text extraction by class (issue 12): the shared corpus rows and the variants of each
class in tests/email/reply_classes.py, through the real parser and `extract_reply`."""

from __future__ import annotations

import os

import pytest

from bench.email_reply_libraries import corpus_dir, corpus_replies, reply_ok
from tests.email.reply_classes import DECIDED, corpus_class, variants
from tests.mail.mailbuild import email
from ticketbridge.intake.email.parse import parse_message
from ticketbridge.intake.email.reply import extract_reply

CLASS_CASES = list(variants())
CORPUS_ROWS = corpus_replies(corpus_dir())


def new_text(text: str, html: str | None) -> str:
    """What the intake keeps of a mail with this text and HTML part."""
    parsed = parse_message(email(text=text or None, html=html))
    return extract_reply(parsed.text, parsed.html, parsed.quote_start)


@pytest.mark.parametrize(
    ("name", "text", "html", "expected"),
    CLASS_CASES,
    ids=[f"{name}: {(text or html or '')[:40]!r}" for name, text, html, _ in CLASS_CASES],
)
def test_the_new_text_by_class(name: str, text: str, html: str | None, expected: str) -> None:
    assert new_text(text, html) == expected


def test_the_corpus_is_there() -> None:
    if not CORPUS_ROWS:
        message = f"email corpus not found at {corpus_dir()} (set TICKETBRIDGE_EMAIL_CORPUS)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.parametrize(
    "reply", CORPUS_ROWS, ids=[f"{corpus_class(r.path)}: {r.path}" for r in CORPUS_ROWS]
)
def test_the_corpus_reply_rows_by_class(reply) -> None:
    expected = DECIDED.get(reply.path, reply.expected)
    assert reply_ok(expected, extract_reply(reply.text, reply.html, reply.quote_start))
