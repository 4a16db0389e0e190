"""CSRF protection for every form that changes something, customer forms included.

Flask-WTF's CSRFProtect checks a token tied to the visitor's session cookie on every POST;
templates put `{{ csrf_token() }}` in a hidden `csrf_token` field. Routes that authenticate by
a header a browser never adds on its own (the API's `Authorization: Bearer`) cannot be forged
by another site and are the only ones exempted, with `exempt_token_authenticated`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask
from flask_wtf.csrf import CSRFProtect

View = TypeVar("View", bound=Callable[..., object])

TOKEN_LIFETIME_SECONDS = 24 * 3600
"""Long enough for a customer who fills a form in several sittings."""

protect = CSRFProtect()


def exempt_token_authenticated(view: View) -> View:
    """For a view that authenticates every request by a bearer token, never by a cookie."""
    protect.exempt(view)
    return view


def exempt_cookieless(view: View) -> View:
    """For an open endpoint that reads no cookie (the request API): a forged request can do no
    more than its sender could do directly, so a token would protect nothing."""
    protect.exempt(view)
    return view


def init_app(app: Flask) -> None:
    public_url = app.extensions["ticketbridge"].settings.public_url
    app.config.update(
        WTF_CSRF_TIME_LIMIT=TOKEN_LIFETIME_SECONDS,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=urlsplit(public_url).scheme == "https",
    )
    protect.init_app(app)
