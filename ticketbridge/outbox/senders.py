"""Where outgoing mail goes: an SMTP server, or a folder of .eml files on the embedded default.

Both take the finished bytes and either accept them or raise DeliveryError saying whether a
retry can help (SMTP 4xx, refused connection) or not (5xx, an address the server cannot carry).
Whatever goes wrong inside one send stays with that email: the SMTP session is reset or closed
before the error is reported, so the next email never meets a half-finished transaction.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from ticketbridge.config import Settings
from ticketbridge.errors import DeliveryError
from ticketbridge.mailaddress import needs_smtputf8, undeliverable_reason
from ticketbridge.private_files import private_folder


class Sender(Protocol):
    def send(self, *, sender: str, recipient: str, raw: bytes, name: str) -> None: ...


class FolderSender:
    """Keeps each email as <name>.eml; written to a temporary name and renamed, so never half a
    file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, *, sender: str, recipient: str, raw: bytes, name: str) -> None:
        private_folder(self.folder)
        partial = self.folder / f".{name}.eml.partial"
        partial.write_bytes(raw)
        partial.replace(self.folder / f"{name}.eml")


class SmtpSender:
    """One SMTP session per thread, kept between emails: a worker delivering a queue of outcome
    emails pays the connect, TLS and login once, not per email. A session the server has closed
    meanwhile (idle timeout) is replaced and the email sent again on the new one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()

    def send(self, *, sender: str, recipient: str, raw: bytes, name: str) -> None:
        try:
            self._send_on_live_session(sender, recipient, raw)
        except DeliveryError:
            raise  # refused before MAIL FROM: the session has no transaction to reset
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            code, reply = next(iter(exc.recipients.values()))
            raise DeliveryError(
                f"SMTP refused {recipient}: {code} {_text(reply)}", permanent=code >= 500
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise DeliveryError(
                f"SMTP said {exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._close()
            raise DeliveryError(
                f"SMTP server {self.settings.smtp_host}:{self.settings.smtp_port} "
                f"unreachable: {exc}",
                permanent=False,
            ) from None
        except Exception as exc:  # noqa: BLE001 - whatever it was, it stays with this email
            # Unknown state mid-transaction (e.g. UnicodeEncodeError after MAIL FROM): only a new
            # session is safe for the next email. Content that cannot be encoded stays so.
            self._close()
            raise DeliveryError(
                f"sending to {recipient} failed: {type(exc).__name__}: {exc}",
                permanent=isinstance(exc, ValueError),
            ) from None

    def _send_on_live_session(self, sender: str, recipient: str, raw: bytes) -> None:
        reused = getattr(self._local, "smtp", None) is not None
        try:
            self._transaction(self._session(), sender, recipient, raw)
        except smtplib.SMTPServerDisconnected:
            self._close()
            if not reused:
                raise
            self._transaction(self._session(), sender, recipient, raw)

    def _transaction(self, smtp: smtplib.SMTP, sender: str, recipient: str, raw: bytes) -> None:
        """One MAIL/RCPT/DATA, started only once both addresses are known to fit the session:
        ASCII ones always, others only where the server offers SMTPUTF8. `sender` may carry a
        display name (the configured From); the envelope takes its address."""
        sender = parseaddr(sender)[1]
        smtp.ehlo_or_helo_if_needed()
        smtputf8 = smtp.has_extn("smtputf8")
        for address in (sender, recipient):
            reason = undeliverable_reason(address, smtputf8=smtputf8)
            if reason is not None:
                raise DeliveryError(f"not sent: {reason}", permanent=True)
        options = []
        if needs_smtputf8(sender) or needs_smtputf8(recipient):
            options = ["SMTPUTF8", *(["BODY=8BITMIME"] if smtp.has_extn("8bitmime") else [])]
        smtp.sendmail(sender, [recipient], raw, mail_options=options)

    def _session(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        if smtp is None:
            smtp = self._connect()
            self._local.smtp = smtp
        return smtp

    def _reset(self) -> None:
        """After a refused transaction the session stays usable once RSET; if even that fails, drop
        it."""
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        try:
            if smtp is not None:
                smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._close()

    def _close(self) -> None:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                timeout=s.smtp_timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            if s.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if s.smtp_user:
            smtp.login(s.smtp_user, s.smtp_password)
        return smtp


def sender_for(settings: Settings) -> Sender:
    return SmtpSender(settings) if settings.smtp_host else FolderSender(settings.mail_folder)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
