"""Admin pages: the workflows with their versions and how many tickets run on each."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from ticketbridge.http.context import services
from ticketbridge.tickets.models import Ticket
from ticketbridge.web.staff import blueprint
from ticketbridge.web.staff.auth import admin_required
from ticketbridge.workflow.models import WorkflowVersion


@blueprint.get("/admin/")
@admin_required
def admin_home() -> str:
    with services().db.transaction() as session:
        versions = session.scalars(
            select(WorkflowVersion).order_by(WorkflowVersion.name, WorkflowVersion.loaded_at)
        ).all()
        running = dict(
            ((name, version), count)
            for name, version, count in session.execute(
                select(Ticket.workflow_name, Ticket.workflow_version, func.count())
                .where(Ticket.outcome.is_(None))
                .group_by(Ticket.workflow_name, Ticket.workflow_version)
            )
        )
        return render_template(
            "staff/admin_home.html",
            versions=versions,
            running=running,
            in_force={
                name: services().workflows.current(name).version
                for name in services().workflows.names()
            },
        )
