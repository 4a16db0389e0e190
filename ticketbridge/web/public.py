"""The license portal's public side: the list of request types and their forms."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request
from werkzeug.wrappers import Response

from ticketbridge.errors import NotFound, ValidationError
from ticketbridge.http.context import services
from ticketbridge.intake.email.attachments import store_attachments
from ticketbridge.intake.email.parse import Attachment
from ticketbridge.intake.forms import all_fields
from ticketbridge.intake.service import submit_request
from ticketbridge.workflow.definitions import FieldType, FormSpec

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
def index() -> str:
    workflows = [services().workflows.current(name) for name in services().workflows.names()]
    return render_template("index.html", workflows=workflows)


@blueprint.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}


@blueprint.route("/requests/<request_type>", methods=["GET", "POST"])
def request_form(request_type: str) -> str | Response | tuple[str, int]:
    try:
        workflow = services().workflows.current(request_type)
    except NotFound:
        abort(404)
    errors: dict[str, list[str]] = {}
    values = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        lists = {f.name for f in workflow.form.fields if f.type == FieldType.MULTICHOICE}
        data: dict[str, Any] = {
            key: request.form.getlist(key) if key in lists else value
            for key, value in values.items()
        }
        data |= _uploads(workflow.form)
        try:
            ticket_id = submit_request(
                services(), request_type, data, submission_id=values.get("submission_id") or None
            )
        except ValidationError as exc:
            errors = exc.errors
        else:
            return redirect(services().links.ticket_url(ticket_id), code=303)
    values.setdefault("submission_id", uuid.uuid4().hex)
    page = render_template(
        "request_form.html",
        workflow=workflow,
        fields=all_fields(workflow.form),
        values=values,
        errors=errors,
    )
    return (page, 422) if errors else page


def _uploads(form: FormSpec) -> dict[str, list[dict[str, Any]]]:
    """Store the form's files (content-addressed, so a rejected form leaves only unreferenced
    copies) and give the form data what a message's attachments record: name, type, size, hash."""
    instance = services().settings.instance_path
    return {
        field.name: store_attachments(
            instance,
            tuple(
                Attachment(f.filename or "", f.mimetype or "application/octet-stream", f.read())
                for f in request.files.getlist(field.name)
                if f.filename
            ),
        )
        for field in form.fields
        if field.type == FieldType.FILE
    }


@blueprint.get("/support")
def support() -> str:
    return render_template("support.html")
