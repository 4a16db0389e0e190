"""The license portal's public side: the menu of request types, its two questions, the forms."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from itertools import groupby

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ticketbridge.clock import utcnow
from ticketbridge.errors import NotFound, ValidationError
from ticketbridge.forms.common import all_fields
from ticketbridge.forms.fields import FormField
from ticketbridge.forms.submitted import answers_from
from ticketbridge.forms.visibility import ShownWhen, group_shown_when, shown_when
from ticketbridge.http.context import runtime
from ticketbridge.web.portal import QUESTIONS, menu
from ticketbridge.workflow.definitions import Workflow

blueprint = Blueprint("public", __name__)
SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _installed() -> set[str]:
    return set(runtime().workflows.names())


@blueprint.get("/")
@blueprint.get("/requests")
def index() -> str:
    titles = {n: runtime().workflows.current(n).title for n in _installed()}
    return render_template("index.html", entries=menu(_installed()), titles=titles)


@blueprint.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}


def _question(slug: str) -> str | Response:
    question = QUESTIONS[slug]
    answer = request.args.get("answer", "")
    chosen = question.request_type(answer)
    if chosen is not None and chosen in _installed():
        return redirect(url_for("public.request_form", request_type=chosen), code=303)
    return render_template(
        "question.html",
        question=question,
        options=question.offered(_installed()),
        answered=bool(answer),
    )


@dataclass(frozen=True)
class Section:
    """Consecutive fields of one section, shown under its heading (none when untitled)."""

    heading: str
    fields: list[FormField]
    shown_when: ShownWhen | None
    """When the whole section depends on one answer: the page's script hides it otherwise."""


def _sections(fields: tuple[FormField, ...]) -> list[Section]:
    groups = [(heading, list(group)) for heading, group in groupby(fields, lambda f: f.section)]
    return [Section(h, group, group_shown_when(fields, group)) for h, group in groups]


def _form_page(
    workflow: Workflow, values: MultiDict[str, str], errors: dict[str, list[str]]
) -> str:
    fields = all_fields(workflow.form)
    return render_template(
        "request_form.html",
        workflow=workflow,
        sections=_sections(fields),
        shown_when={f.name: shown_when(fields, f) for f in fields},
        values=values,
        errors=errors,
        catalogue=runtime().catalogue,
    )


@blueprint.route("/requests/<request_type>", methods=["GET", "POST"])
def request_form(request_type: str) -> str | Response | tuple[str, int]:
    if request_type in QUESTIONS and request.method == "GET":
        return _question(request_type)
    try:
        workflow = runtime().workflows.current(request_type)
    except NotFound:
        abort(404)
    if request.method == "GET":
        return _form_page(workflow, MultiDict({"submission_id": uuid.uuid4().hex}), {})
    answers = answers_from(all_fields(workflow.form), request.form, request.files)
    try:
        with runtime().db.transaction() as session:
            ticket_id = runtime().intake.submit_request(
                session,
                request_type,
                answers,
                now=utcnow(),
                submission_id=_submission_id(),
            )
    except ValidationError as exc:
        values = request.form.copy()
        values.setdefault("submission_id", uuid.uuid4().hex)
        return _form_page(workflow, values, exc.errors), 422
    return redirect(runtime().links.ticket_url(ticket_id), code=303)


def _submission_id() -> str | None:
    """The id this page was given, to spot a second click on Send; anything else sent in its
    place only loses that protection."""
    value = request.form.get("submission_id", "")
    return value if SUBMISSION_ID.match(value) else None


@blueprint.get("/support")
def support() -> str:
    return render_template("support.html")


@blueprint.get("/conditions")
def conditions() -> str:
    return render_template("conditions.html")


@blueprint.get("/license-agreement")
def license_agreement() -> str:
    return render_template("license_agreement.html")
