"""Email addresses in the one form SMTP can carry, and the keys we compare and count them by.

An address reaches us from a form (already checked by email-validator) or from an inbound
header (anything at all). Inbound mail is stored whatever its sender looks like, so
`deliverable` never raises: it returns the form we store and send to, and `undeliverable_reason`
says, at send time, why an address cannot go over a given SMTP session.
"""

from __future__ import annotations

import idna

_FORBIDDEN = frozenset('<>()[]\\,;:" \t')


def deliverable(address: str) -> str:
    """The stored form: trimmed, lower-cased, the domain in IDNA ASCII (xn--) where it converts.

    `idn@Bücher.example` becomes `idn@xn--bcher-kva.example`, which every SMTP server accepts.
    A domain that does not convert, or a non-ASCII local part, is kept as given (lower-cased):
    sending to it then fails for that one email with the reason from `undeliverable_reason`.
    """
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower()
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError:
            pass
    return f"{local}@{domain}"


def needs_smtputf8(address: str) -> bool:
    """A non-ASCII local part (or domain IDNA refused) only travels where SMTPUTF8 is offered."""
    return not address.isascii()


def undeliverable_reason(address: str, *, smtputf8: bool) -> str | None:
    """Why `address` cannot be given to MAIL FROM / RCPT TO, or None when it can.

    Control characters and the characters of address syntax would end or change the SMTP
    command; a non-ASCII address needs a server that offers SMTPUTF8.
    """
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return f"{address!r} is not an address of the form name@domain"
    if any(ch in _FORBIDDEN or not ch.isprintable() for ch in address):
        return f"{address!r} contains a space, control character or address punctuation"
    if needs_smtputf8(address) and not smtputf8:
        return (
            f"{address!r} has non-ASCII characters (before the @, or a domain that is not a "
            "valid internationalised name), which need SMTPUTF8, and the SMTP server does not "
            "offer it"
        )
    return None


def same_mailbox(a: str, b: str) -> bool:
    """Exact comparison of two addresses in their stored form (case and IDNA spelling aside)."""
    return bool(a) and deliverable(a) == deliverable(b)


def cap_key(address: str) -> str:
    """The key the per-recipient rate cap counts by: `A+x@Example.com` counts as `a@example.com`.

    Only for counting: the email still goes to the exact address.
    """
    stored = deliverable(address)
    local, at, domain = stored.rpartition("@")
    return f"{local.partition('+')[0]}@{domain}" if at else stored
