"""A license as staff see it: entitlements, allowed apps (R18), limits against reported usage
(R17), the last sync, the ledger with the ticket behind each change, and the invoice preview."""

from __future__ import annotations

from flask import abort, render_template

from ticketbridge.clock import utcnow
from ticketbridge.http.context import runtime
from ticketbridge.licenses.invoicing import invoice_for
from ticketbridge.staff.directory import staff_names
from ticketbridge.tickets.queries import license_page
from ticketbridge.web.staff import blueprint
from ticketbridge.web.staff.auth import staff_required


@blueprint.get("/licenses/<token>")
@staff_required
def license(token: str) -> str:
    with runtime().db.transaction() as session:
        page = license_page(session, token)
        if page is None:
            abort(404)
        invoice = (
            invoice_for(runtime().catalogue, page.license, utcnow().date())
            if page.license.paid_since
            else None
        )
        return render_template(
            "staff/license.html",
            page=page,
            license=page.license,
            invoice=invoice,
            catalogue=runtime().catalogue,
            names=staff_names(session, (change.actor for change, _ in page.ledger)),
        )
