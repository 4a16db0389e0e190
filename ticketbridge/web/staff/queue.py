"""The queue: views with their counts, search, keyset pages."""

from __future__ import annotations

import datetime as dt
from functools import partial

from flask import abort, render_template, request
from sqlalchemy.orm import Session

from ticketbridge.clock import utcnow
from ticketbridge.errors import ValidationError
from ticketbridge.http.context import counts_cache, reads_no_workflows, runtime
from ticketbridge.tickets.queries import (
    Query,
    QueueCounts,
    QueuePage,
    View,
    queue_counts,
    queue_page,
    search,
)
from ticketbridge.web.staff import blueprint
from ticketbridge.web.staff.auth import me, staff_required


def requested_query() -> Query:
    """The view named by the query string (the page and the API read it the same way)."""
    try:
        view = View(request.args.get("view", View.STAFF.value))
    except ValueError:
        abort(404, f"no queue view {request.args.get('view')!r}")
    return Query(
        view,
        request_type=request.args.get("type") or None,
        state=request.args.get("state") or None,
        after=request.args.get("after") or None,
    )


def _read(
    session: Session, wanted: Query, text: str, now: dt.datetime
) -> tuple[QueueCounts, QueuePage, str | None]:
    """The counts, and the search's matches or the view's page (or why the page marker was
    refused)."""
    counts = queue_counts(session, me=me().id, now=now, cache=counts_cache())
    if text:
        return counts, QueuePage(search(session, text), None), None
    try:
        return counts, queue_page(session, wanted, me=me().id, now=now), None
    except ValidationError as exc:
        return counts, QueuePage([], None), exc.message


@blueprint.get("/")
@reads_no_workflows  # the queue names request types and states as stored on the tickets
@staff_required
def queue() -> str | tuple[str, int]:
    wanted = requested_query()
    text = request.args.get("q", "").strip()
    counts, page, error = runtime().db.read(partial(_read, wanted=wanted, text=text, now=utcnow()))
    page_html = render_template(
        "staff/queue.html",
        views=list(View),
        wanted=wanted,
        counts=counts,
        rows=page.rows,
        next_after=page.next_after,
        search_text=text,
        error=error,
    )
    return (page_html, 400) if error else page_html
