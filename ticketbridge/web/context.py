"""The process's runtime, from inside a request."""

from __future__ import annotations

from typing import cast

from flask import current_app

from ticketbridge.runtime import Runtime


def runtime() -> Runtime:
    return cast(Runtime, current_app.extensions["ticketbridge"])
