"""The queue: views with their counts, search, keyset pages."""

from __future__ import annotations

from flask import abort, render_template, request

from ticketbridge.clock import utcnow
from ticketbridge.errors import ValidationError
from ticketbridge.http.context import counts_cache, runtime
from ticketbridge.tickets.queries import Query, View, queue_counts, queue_page, search
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


@blueprint.get("/")
@staff_required
def queue() -> str | tuple[str, int]:
    wanted = requested_query()
    text = request.args.get("q", "").strip()
    now = utcnow()
    error = None
    with runtime().db.transaction() as session:
        counts = queue_counts(session, me=me().id, now=now, cache=counts_cache())
        rows, next_after = [], None
        if text:
            rows = search(session, text)
        else:
            try:
                page = queue_page(session, wanted, me=me().id, now=now)
                rows, next_after = page.rows, page.next_after
            except ValidationError as exc:
                error = exc.message
    page_html = render_template(
        "staff/queue.html",
        views=list(View),
        wanted=wanted,
        counts=counts,
        rows=rows,
        next_after=next_after,
        search_text=text,
        error=error,
        workflows=runtime().workflows,
    )
    return (page_html, 400) if error else page_html
