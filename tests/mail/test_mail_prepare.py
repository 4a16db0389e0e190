"""The fetcher's helper processes: the same results as working in the fetcher, and a dead helper
costs no mail."""

from __future__ import annotations

from concurrent.futures import Future
from email import message_from_bytes

from tests.mail.mailbuild import email
from ticketbridge.clock import utcnow
from ticketbridge.intake.email.prepare import (
    MIN_PARALLEL_COMPOSE,
    MailHelper,
    Parsed,
    parse_all,
)
from ticketbridge.outbox.compose import Draft, compose_drafts
from ticketbridge.outbox.render import RenderedEmail


def test_helper_parses_as_the_fetcher_would(caplog) -> None:
    raws = [
        email(sender=f"c{n}@example.com", subject=f"Question {n}", text=f"Hello {n}")
        for n in range(3)
    ] + [b"\xff\x00 not a mail"]
    helper = MailHelper()
    try:
        assert helper.result(helper.submit(raws), raws) == parse_all(raws)
    finally:
        helper.close()
    assert not _fell_back(caplog), "the helper failed and the batch was parsed in the fetcher"


def test_a_failed_helper_parses_the_batch_in_the_fetcher() -> None:
    raws = [email(sender="c@example.com", subject="Question", text="Hello")]
    failed: Future[list[Parsed]] = Future()
    failed.set_exception(RuntimeError("helper died"))
    assert MailHelper().result(failed, raws) == parse_all(raws)


def test_helpers_compose_the_drafts_in_order(caplog) -> None:
    now = utcnow()
    drafts = [
        Draft(
            RenderedEmail(f"Received {n}", f"Text {n}\n", f"<p>Text {n}</p>"),
            f"GR-{n}",
            "Team <team@example.com>",
            f"c{n}@example.com",
            f"C {n}",
            f"team+GR-{n}@example.com",
            f"<{n}.GR-{n}@example.com>",
            (f"<in{n}@example.com>",),
            now,
        )
        for n in range(MIN_PARALLEL_COMPOSE + 5)
    ]
    helper = MailHelper()
    try:
        composed = helper.compose(drafts)
    finally:
        helper.close()
    assert not _fell_back(caplog), "the helpers failed and the drafts were composed in the fetcher"
    inline = compose_drafts(drafts)
    assert [(c.subject, c.in_reply_to, c.references) for c in composed] == [
        (c.subject, c.in_reply_to, c.references) for c in inline
    ]
    assert [message_from_bytes(c.raw)["Message-ID"] for c in composed] == [
        d.message_id for d in drafts
    ]


def _fell_back(caplog) -> list[str]:
    """The fallback warnings: without this check a broken helper would pass, its work done
    in-process."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "ticketbridge.intake.email.prepare" and "helper failed" in r.getMessage()
    ]
