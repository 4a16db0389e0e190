"""Capability links stay out of logs: a ticket page address is the right to read that ticket.

`/t/<id>.<signature>` is written as `/t/<id>.<redacted>`: the ticket id stays for whoever reads
the log, the signature that grants access does not. Values are percent-decoded first, so no
spelling of the path (`/%74/…`, `/t%2F…`) slips through. gunicorn's access log goes through
`RedactingLogger` (request line, path, referrer, every header and environ value).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from gunicorn.glogging import Logger

_CAPABILITY = re.compile(r"(/t/[^/.?#\s\"']*)[^/?#\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    decoded = unquote(text)
    if not _CAPABILITY.search(decoded):
        return text
    return _CAPABILITY.sub(r"\1.<redacted>", decoded)


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with capability links cut from every access-log value."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {key: redact(v) if isinstance(v, str) else v for key, v in atoms.items()}
