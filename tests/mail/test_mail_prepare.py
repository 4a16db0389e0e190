"""The fetcher's helper process: the same results as working in the fetcher, a dead helper costs
no mail, and no helper outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from email import message_from_bytes

from tests.fixtures.backends import wait_until
from tests.mail.mailbuild import email
from ticketbridge.clock import utcnow
from ticketbridge.config import PROJECT_ROOT
from ticketbridge.intake.email.prepare import (
    MIN_PARALLEL_COMPOSE,
    MailHelper,
    Pending,
    parse_all,
)
from ticketbridge.lifeline import process_start
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


def test_a_helper_killed_mid_batch_costs_no_mail(caplog) -> None:
    raws = [email(sender="c@example.com", subject="Question", text="Hello")]
    helper = MailHelper()
    try:
        pending = helper.submit(raws)
        assert pending.helper is not None
        pending.helper.process.kill()
        assert helper.result(pending, raws) == parse_all(raws)
        assert _fell_back(caplog)
        assert helper.result(helper.submit(raws), raws) == parse_all(raws)
    finally:
        helper.close()
    assert MailHelper().result(Pending(None), raws) == parse_all(raws)


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
        raws = [b"Subject: parsed while composing\r\n\r\nbody"]
        pending = helper.submit(raws)
        composed = helper.compose(drafts)
        assert helper.result(pending, raws) == parse_all(raws)
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


def test_the_helper_dies_with_its_parent_even_on_sigkill(tmp_path) -> None:
    """A parent that starts a helper and is SIGKILLed leaves no helper running."""
    script = textwrap.dedent(
        """
        import sys, time
        from ticketbridge.intake.email.prepare import MailHelper
        helper = MailHelper()
        pending = helper.submit([b"Subject: x\\r\\n\\r\\nbody"])
        print(pending.helper.process.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        helper_pid = int(parent.stdout.readline())
        assert process_start(helper_pid) is not None
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
    wait_until(lambda: process_start(helper_pid) is None, timeout=10, what="the helper to end")


def _fell_back(caplog) -> list[str]:
    """The fallback warnings: without this check a broken helper would pass, its work done
    in-process."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "ticketbridge.intake.email.prepare" and "helper failed" in r.getMessage()
    ]
