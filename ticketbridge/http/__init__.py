"""What every HTTP face of ticketbridge shares, whoever serves it (customer pages, the JSON API,
later the staff app): one mapping of errors to pages or JSON, request limits, CSRF, security
headers and log redaction of capability links.

`web` and `api` build on this package and never import each other; this package imports
neither.
"""

from __future__ import annotations

from flask import Flask

from ticketbridge.http import csrf, errors, headers, limits


def init_app(app: Flask, *, api_prefix: str, api_hint: str) -> None:
    """Install the shared layer; `api_prefix` marks the paths answered in JSON, and `api_hint`
    is what an unknown path under it is told."""
    app.config.update(TICKETBRIDGE_API_PREFIX=api_prefix, TICKETBRIDGE_API_HINT=api_hint)
    limits.init_app(app)
    csrf.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
