"""The process's runtime, from inside a request."""

from __future__ import annotations

from flask import Flask, current_app

from ticketbridge.runtime import Runtime


def runtime() -> Runtime:
    found: Runtime = current_app.extensions["ticketbridge"]
    return found


def runtime_of(app: Flask) -> Runtime:
    """For set-up code that runs outside a request."""
    found: Runtime = app.extensions["ticketbridge"]
    return found
