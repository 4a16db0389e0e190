"""The fetcher's parse-ahead helper: the same result as parsing in the fetcher, and a dead helper costs no mail."""

from __future__ import annotations

from concurrent.futures import Future

from tests.mail.mailbuild import email
from ticketbridge.intake.email.prepare import ParseAhead, Parsed, parse_all


def test_helper_parses_as_the_fetcher_would() -> None:
    raws = [email(sender=f"c{n}@example.com", subject=f"Question {n}", text=f"Hello {n}") for n in range(3)] + [b"\xff\x00 not a mail"]
    helper = ParseAhead()
    try:
        assert helper.result(helper.submit(raws), raws) == parse_all(raws)
    finally:
        helper.close()


def test_a_failed_helper_parses_the_batch_in_the_fetcher() -> None:
    raws = [email(sender="c@example.com", subject="Question", text="Hello")]
    failed: Future[list[Parsed]] = Future()
    failed.set_exception(RuntimeError("helper died"))
    assert ParseAhead().result(failed, raws) == parse_all(raws)
