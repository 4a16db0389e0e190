"""Security headers on every response, and `no_store` for pages that must not be kept.

The policy allows scripts, styles and images from this site only and no inline script, so
injected markup cannot run; no other site may frame a page (clickjacking); browsers must not
guess content types; and the full address of a page, which for a ticket page is the capability
to read it, is never sent to another site as a referrer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import Flask, make_response
from werkzeug.wrappers import Response

P = ParamSpec("P")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def no_store(view: Callable[P, object]) -> Callable[P, Response]:
    """For pages a shared computer or a proxy must not keep: the ticket page shows a customer's
    details to whoever holds its link."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
