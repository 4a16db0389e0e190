"""The process's runtime, from inside a request."""

from __future__ import annotations

from flask import current_app

from ticketbridge.runtime import Runtime


def runtime() -> Runtime:
    found: Runtime = current_app.extensions["ticketbridge"]
    return found
