"""Rate limits per client address on what anyone may post: the public request forms (one
budget shared by all of them, so spreading over ten forms gains nothing) and a ticket's reply
form.

Flask-Limiter counts in Redis in production, so every web process sees the same client, and in
memory on the embedded default (`Settings.rate_limit_storage`). Counting never blocks a
request when Redis is down: a limit is a defence, not a dependency. Behind reverse proxies,
`proxy_count` says how many X-Forwarded-For hops to trust for the client address.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from ticketbridge.clock import utcnow
from ticketbridge.http.context import runtime, runtime_of

limiter = Limiter(get_remote_address, key_prefix="ticketbridge", swallow_errors=True)

public_form = limiter.shared_limit(
    lambda: runtime().settings.form_rate_limit, scope="public-forms", methods=["POST"]
)
"""For every public form: one budget per client address across all of them."""
ticket_reply = limiter.shared_limit(
    lambda: runtime().settings.reply_rate_limit, scope="ticket-replies", methods=["POST"]
)
"""For the ticket page's message form."""


def seconds_until_reset() -> int:
    """How long the client that was just refused must wait."""
    limit = limiter.current_limit
    reset = dt.datetime.fromtimestamp(limit.reset_at, dt.UTC) if limit else utcnow()
    return max(1, int((reset - utcnow()).total_seconds()) + 1)


def come_back_message(seconds: int) -> str:
    at = utcnow() + dt.timedelta(seconds=seconds)
    wait = f"{seconds} seconds" if seconds < 120 else f"{round(seconds / 60)} minutes"
    return (
        "Too many requests were sent from your address. Please come back after "
        f"{at:%H:%M} UTC (in about {wait}); what you typed is still in your browser if you go "
        "back."
    )


def init_app(app: Flask) -> None:
    settings = runtime_of(app).settings
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count
        )
    # No X-RateLimit-* headers: each costs the window's stats (two more Redis calls) on every
    # limited POST; a refused one still says when to come back (Retry-After, errors.py).
    app.config.update(
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage, RATELIMIT_HEADERS_ENABLED=False
    )
    limiter.init_app(app)
