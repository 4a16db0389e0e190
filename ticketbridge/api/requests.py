"""`POST /api/v1/requests/{type}`: file a request as the web form does, from a program.

The body is JSON (no files) or multipart/form-data (files in the file fields); either goes
through the same validator and cross-checks as the form, so the API accepts exactly what the
form accepts. Created: 201 with the reference and the customer's ticket link. Refused: 422 with
the messages of every field at fault. An `Idempotency-Key` header makes a retry return the
ticket the first attempt created.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from ticketbridge.api.openapi import IDEMPOTENCY_PATTERN, openapi_document
from ticketbridge.clock import utcnow
from ticketbridge.errors import TicketbridgeError, ValidationError
from ticketbridge.forms.common import all_fields
from ticketbridge.forms.submitted import answers_from
from ticketbridge.http.body import read_json_object
from ticketbridge.http.context import runtime
from ticketbridge.http.csrf import exempt_cookieless
from ticketbridge.tickets.models import Ticket

blueprint = Blueprint("api_requests", __name__, url_prefix="/api/v1")

MAX_JSON_BYTES = 64 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_PATTERN)
IDEMPOTENCY_RULE = "16 to 60 letters, digits, '-' or '_' (a UUID fits)"
JSON_EXAMPLE = '{"token": "...", "customer_name": "...", "customer_email": "...", ...}'


class UnsupportedBody(TicketbridgeError):
    http_status = 415


def _answers(fields: tuple[Any, ...]) -> dict[str, Any]:
    if request.mimetype == "multipart/form-data":
        return answers_from(fields, request.form, request.files)
    if request.mimetype == "application/json":
        return read_json_object(MAX_JSON_BYTES, example=JSON_EXAMPLE)
    raise UnsupportedBody(
        "Send the request as application/json, or as multipart/form-data when it has files."
    )


def _submission_id() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise ValidationError({IDEMPOTENCY_HEADER: [f"must be {IDEMPOTENCY_RULE}"]})
    return f"api:{key}"


def refusal(error: ValidationError) -> Response:
    """422 with every field's messages; `error` keeps the shape of every other API error."""
    response = jsonify(
        {
            "error": {"message": error.message, "field": error.field},
            "errors": error.errors,
        }
    )
    response.status_code = error.http_status
    return response


@blueprint.get("/openapi.json")
def openapi() -> Response:
    repository = runtime().workflows
    return jsonify(
        openapi_document(
            (repository.current(name) for name in repository.names()),
            runtime().settings.public_url,
        )
    )


@blueprint.post("/requests/<request_type>")
@exempt_cookieless
def create_request(request_type: str) -> Response:
    workflow = runtime().workflows.current(request_type)
    try:
        with runtime().db.transaction() as session:
            ticket_id = runtime().intake.submit_request(
                session,
                request_type,
                _answers(all_fields(workflow.form)),
                now=utcnow(),
                submission_id=_submission_id(),
            )
    except ValidationError as error:
        return refusal(error)
    with runtime().db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        body = {
            "reference": ticket.reference,
            "ticket_url": runtime().links.ticket_url(ticket_id),
            "state": ticket.state,
            "waiting_on": ticket.waiting_on.value,
        }
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["ticket_url"]
    return response
