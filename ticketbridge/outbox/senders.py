"""Where outgoing mail goes: an SMTP server, or a folder of .eml files on the embedded default.

Both take the finished bytes and either accept them or raise DeliveryError saying whether a
retry can help (SMTP 4xx, refused connection) or not (5xx).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from pathlib import Path
from typing import Protocol

from ticketbridge.config import Settings
from ticketbridge.errors import DeliveryError


class Sender(Protocol):
    def send(self, *, sender: str, recipient: str, raw: bytes, name: str) -> None: ...


class FolderSender:
    """Keeps each email as <name>.eml; written to a temporary name and renamed, so never half a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, *, sender: str, recipient: str, raw: bytes, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{name}.eml.partial"
        partial.write_bytes(raw)
        partial.replace(self.folder / f"{name}.eml")


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, *, sender: str, recipient: str, raw: bytes, name: str) -> None:
        try:
            with self._connect() as smtp:
                if self.settings.smtp_user:
                    smtp.login(self.settings.smtp_user, self.settings.smtp_password)
                smtp.sendmail(sender, [recipient], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise DeliveryError(f"SMTP refused {recipient}: {code} {_text(reply)}", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP said {exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise DeliveryError(f"SMTP server {self.settings.smtp_host}:{self.settings.smtp_port} unreachable: {exc}", permanent=False) from None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_tls == "ssl":
            return smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=ssl.create_default_context())
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        if s.smtp_tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp


def sender_for(settings: Settings) -> Sender:
    return SmtpSender(settings) if settings.smtp_host else FolderSender(settings.mail_folder)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
