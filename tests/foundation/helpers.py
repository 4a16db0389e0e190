"""Small helpers the foundation tests share: filling the demo form and reading what came out."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from ticketbridge.clock import utcnow
from ticketbridge.runtime import Runtime

DEMO_FORM = {
    "token": "SRV-7f3a9c2e51",
    "customer_name": "Acme Contact Center",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
}
LINK = re.compile(r"CLICK HERE TO REPLY: (\S+)")


def open_request(runtime: Runtime, request_type: str, data: dict[str, Any]) -> int:
    """Open a request through the intake service, in a transaction of its own."""
    with runtime.db.transaction() as session:
        return runtime.intake.submit_request(session, request_type, data, now=utcnow())


HIDDEN_INPUT = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    """What the server put in a form for the browser to send back: CSRF token, submission id."""
    return dict(HIDDEN_INPUT.findall(page))


def submit(
    client: FlaskClient, page: str, data: dict[str, Any], *, action: str | None = None, **kw: Any
) -> Any:
    """Fill the form on `page` as a browser does: its hidden fields, then `data`, POSTed to
    `action` (default: the page itself)."""
    form = {**hidden_fields(client.get(page).text), **data}
    return client.post(action or page, data=form, **kw)


def post_demo(client: FlaskClient, **changes: Any) -> Any:
    form = {**DEMO_FORM, **changes}
    return submit(client, "/requests/demo", {k: v for k, v in form.items() if v is not None})


def local_path(url: str, public_url: str = "http://tickets.test") -> str:
    assert url.startswith(public_url + "/"), url
    return url.removeprefix(public_url)


def kept_emails(folder: Path) -> list[EmailMessage]:
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]  # type: ignore[misc]


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content().replace("\r\n", "\n")


def visible_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
