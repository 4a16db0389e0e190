"""The process's runtime, from inside a request."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request

from ticketbridge.runtime import Runtime
from ticketbridge.tickets.queries import CountsCache

COUNTS_CACHE = "ticketbridge.queue_counts"

View = TypeVar("View", bound=Callable[..., object])

_VIEWS_WITHOUT_WORKFLOWS: set[Callable[..., object]] = set()


def reads_no_workflows(view: View) -> View:
    """For a view that never asks which workflow version is in force (the sync API: a ticket it
    touches names its own version): the per-request look for newly published versions, a
    database transaction of its own, is skipped."""
    _VIEWS_WITHOUT_WORKFLOWS.add(view)
    return view


def reads_workflows() -> bool:
    """Whether the view answering this request may read the workflow versions in force."""
    view = current_app.view_functions.get(request.endpoint or "")
    return view not in _VIEWS_WITHOUT_WORKFLOWS


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
