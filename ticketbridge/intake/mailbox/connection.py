"""Open the IMAP session, and say in one line which setting to check when that fails.

An operator running `ticketbridge mail fetch --once` for the first time meets every way a
connection can fail: nothing listens on the port, the host name is unknown, a firewall drops
the packets, the password is wrong, the server offers no STARTTLS. Each becomes a
`ServiceUnavailable` naming the setting at fault and what to do, instead of a traceback.
With `imap_tls = "starttls"` a server without STARTTLS is refused: the password is never sent
unencrypted.
"""

from __future__ import annotations

import contextlib
import socket
import ssl

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import CapabilityError, IMAPClientError, LoginError

from ticketbridge.config import Settings
from ticketbridge.errors import ServiceUnavailable

HOST = "TICKETBRIDGE_IMAP_HOST"
PORT = "TICKETBRIDGE_IMAP_PORT"
TLS = "TICKETBRIDGE_IMAP_TLS"
USER = "TICKETBRIDGE_IMAP_USER"
CONNECT_SECONDS = 15.0


def connect(settings: Settings) -> IMAPClient:
    """A logged-in client; `ServiceUnavailable` naming the setting to check when it cannot be."""
    where = f"{settings.imap_host}:{settings.imap_port}"
    try:
        client = IMAPClient(
            settings.imap_host,
            port=settings.imap_port,
            ssl=settings.imap_tls == "ssl",
            timeout=SocketTimeout(
                connect=CONNECT_SECONDS, read=max(30, settings.imap_poll_seconds + 30)
            ),
        )
    except socket.gaierror as exc:
        raise ServiceUnavailable(
            f"the host {settings.imap_host!r} is unknown ({exc.strerror}); check the name",
            setting=HOST,
        ) from None
    except ssl.SSLError as exc:
        raise _tls_failed(where, exc) from None
    except ConnectionRefusedError:
        raise ServiceUnavailable(
            f"{where} refused the connection; check that the IMAP server runs there and that "
            f"{PORT} is its port (143 for starttls/none, 993 for ssl)",
            setting=HOST,
        ) from None
    except TimeoutError:
        raise ServiceUnavailable(
            f"no answer from {where} within {CONNECT_SECONDS:.0f}s; check {HOST}, {PORT} and "
            "any firewall in between",
            setting=HOST,
        ) from None
    except (OSError, IMAPClientError) as exc:
        raise lost(settings, exc) from None
    try:
        if settings.imap_tls == "starttls":
            _starttls(client, where)
        client.login(settings.imap_user, settings.imap_password)
    except LoginError:
        _close(client)
        raise ServiceUnavailable(
            f"{where} rejected the login of {settings.imap_user!r}; check {USER} and "
            "TICKETBRIDGE_IMAP_PASSWORD",
            setting=USER,
        ) from None
    except ServiceUnavailable:
        _close(client)
        raise
    except (OSError, IMAPClientError) as exc:
        _close(client)
        raise lost(settings, exc) from None
    return client


def lost(settings: Settings, error: Exception) -> ServiceUnavailable:
    """A failure after the session opened (the connection dropped, the server said BYE)."""
    if isinstance(error, ServiceUnavailable):
        return error
    if isinstance(error, ssl.SSLError):
        return _tls_failed(f"{settings.imap_host}:{settings.imap_port}", error)
    return ServiceUnavailable(
        f"the IMAP session with {settings.imap_host}:{settings.imap_port} failed "
        f"({type(error).__name__}: {error}); run again: what was stored is kept, and the rest "
        "is fetched next time",
        setting=HOST,
    )


def _starttls(client: IMAPClient, where: str) -> None:
    try:
        client.starttls(ssl.create_default_context())
    except CapabilityError:
        raise ServiceUnavailable(
            f"{where} does not offer STARTTLS, and the password is never sent unencrypted; "
            f"set {TLS}=ssl (with the server's SSL port, usually 993) or enable STARTTLS on "
            "the server",
            setting=TLS,
        ) from None
    except ssl.SSLError as exc:
        raise _tls_failed(where, exc) from None


def _tls_failed(where: str, error: ssl.SSLError) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the TLS handshake with {where} failed ({error.reason or error}); check that {TLS} "
        "matches the port (ssl: 993, starttls: 143) and that the server's certificate is valid "
        "for this host name",
        setting=TLS,
    )


def _close(client: IMAPClient) -> None:
    with contextlib.suppress(OSError, IMAPClientError):  # it failed already; nothing to keep
        client.shutdown()
