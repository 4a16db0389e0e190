"""Issue 8 item 10: security headers on every answer, no inline script, no-store ticket pages."""

from __future__ import annotations

import re

from tests.foundation.helpers import local_path, post_demo


def assert_secure(response) -> None:
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'" and "unsafe" not in policy.get("style-src", "")
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def test_every_kind_of_answer_carries_the_security_headers(client) -> None:
    ticket_page = local_path(post_demo(client).headers["Location"])
    for path, status in (
        ("/", 200),
        ("/requests/demo", 200),
        ("/support", 200),
        (ticket_page, 200),
        ("/t/MQ.forged", 404),
        ("/no/such/page", 404),
        ("/api/v1/licenses/SRV-A", 401),
        ("/api/v1/nothing", 404),
        ("/static/site.css", 200),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert_secure(response)


def test_the_ticket_page_is_never_stored_by_a_browser_or_proxy(client) -> None:
    ticket_page = local_path(post_demo(client).headers["Location"])
    assert client.get(ticket_page).headers["Cache-Control"] == "no-store"


def test_no_page_holds_inline_script_or_style(client) -> None:
    """The policy allows no inline script: a page that relied on one would break silently."""
    ticket_page = local_path(post_demo(client).headers["Location"])
    for path in ("/", "/requests/demo", "/requests/general", "/support", ticket_page):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\s(style|on\w+)=", html), path
