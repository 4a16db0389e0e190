"""An aiosmtpd server that keeps the whole SMTP transcript, not only what it accepted.

The injection and session tests judge what a receiving server saw: every transaction command in
order (MAIL, RCPT, RSET, DATA) and the bytes of each message, parsed by the standard
library, not by our own helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_string, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.fixtures.backends import free_port, wait_until


@dataclass
class TranscriptServer:
    """Records each session's commands; `smtputf8` says whether it offers SMTPUTF8."""

    host: str
    port: int
    smtputf8: bool = False
    transcript: list[str] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        shown = [option for option in options if not option.startswith("SIZE=")]
        self.transcript.append(" ".join(["MAIL", f"<{address}>", *shown]))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.transcript.append(f"RCPT <{address}>")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.transcript.append("RSET")
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.transcript.append("DATA")
        self.messages.append(envelope.original_content or b"")
        return "250 Message accepted for delivery"

    def parsed(self) -> list[EmailMessage]:
        """Each message as a receiver reads it (headers as UTF-8, which SMTPUTF8 allows)."""
        return [
            message_from_string(raw.decode("utf-8"), policy=policy.default)  # type: ignore[misc]
            for raw in self.messages
        ]

    def wait_for(self, count: int) -> list[EmailMessage]:
        wait_until(lambda: len(self.messages) >= count, what=f"{count} email(s) at the server")
        return self.parsed()


def _serve(smtputf8: bool) -> Iterator[TranscriptServer]:
    server = TranscriptServer("127.0.0.1", free_port(), smtputf8=smtputf8)
    controller = Controller(
        server, hostname=server.host, port=server.port, enable_SMTPUTF8=smtputf8
    )
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def transcript_server() -> Iterator[TranscriptServer]:
    """A server that does not offer SMTPUTF8, as many still do not."""
    yield from _serve(smtputf8=False)


@pytest.fixture
def smtputf8_server() -> Iterator[TranscriptServer]:
    yield from _serve(smtputf8=True)
