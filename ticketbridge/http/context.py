"""The process's runtime, from inside a request."""

from __future__ import annotations

from flask import Flask, current_app

from ticketbridge.runtime import Runtime
from ticketbridge.tickets.queries import CountsCache

COUNTS_CACHE = "ticketbridge.queue_counts"


def runtime() -> Runtime:
    found: Runtime = current_app.extensions["ticketbridge"]
    return found


def runtime_of(app: Flask) -> Runtime:
    """For set-up code that runs outside a request."""
    found: Runtime = app.extensions["ticketbridge"]
    return found


def counts_cache() -> CountsCache:
    """The app's queue counts, shared by the staff pages and the staff API (a few seconds old at
    most; see CountsCache)."""
    found: CountsCache = current_app.extensions.setdefault(COUNTS_CACHE, CountsCache())
    return found
