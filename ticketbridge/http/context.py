"""Access to the process's services from inside a request."""

from __future__ import annotations

from flask import Flask, current_app

from ticketbridge.services import Services


def services() -> Services:
    found: Services = current_app.extensions["ticketbridge"]
    return found


def services_of(app: Flask) -> Services:
    """For set-up code that runs outside a request."""
    found: Services = app.extensions["ticketbridge"]
    return found
