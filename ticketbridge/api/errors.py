"""The one place where errors of the JSON API become responses: `{"error": {"message", "field"}}`.

A server talking to the API never gets an HTML page or a traceback: domain errors keep
their status, malformed input is a 400 naming the field and what it accepts, and anything
unexpected is logged and answered with a plain 500.
"""

from __future__ import annotations

import logging

import marshmallow
from flask import Blueprint, Response, jsonify
from werkzeug.exceptions import HTTPException

from ticketbridge.errors import TicketbridgeError
from ticketbridge.licenses.sync import SyncDenied

log = logging.getLogger(__name__)


def error_response(status: int, message: str, field: str | None = None) -> Response:
    response = jsonify({"error": {"message": message, "field": field}})
    response.status_code = status
    return response


API_PREFIX = "/api/"
ENDPOINTS = "the sync API is GET /api/v1/licenses/{token} and POST /api/v1/licenses/{token}/usage"


def api_routing_error(error: HTTPException) -> Response:
    """No route or wrong method under /api/: routing fails before any blueprint is chosen, so the
    application's handler sends these here to keep every /api/ answer JSON."""
    response = error_response(error.code or 500, f"{error.name}: {ENDPOINTS}")
    if error.code == 405:
        response.headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or ())
    return response


def init_blueprint(blueprint: Blueprint) -> None:
    @blueprint.errorhandler(SyncDenied)
    def denied(error: SyncDenied) -> Response:
        response = error_response(error.http_status, error.message, error.field)
        response.headers["WWW-Authenticate"] = 'Bearer realm="ticketbridge license sync"'
        return response

    @blueprint.errorhandler(TicketbridgeError)
    def domain_error(error: TicketbridgeError) -> Response:
        return error_response(error.http_status, error.message, error.field)

    @blueprint.errorhandler(marshmallow.ValidationError)
    def invalid_input(error: marshmallow.ValidationError) -> Response:
        messages = error.messages if isinstance(error.messages, dict) else {"body": error.messages}
        field, problems = next(iter(messages.items()))
        problem = problems[0] if isinstance(problems, list) else str(problems)
        return error_response(400, f"{field}: {problem}", field)

    @blueprint.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return error_response(error.code or 500, error.description or error.name)

    @blueprint.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error in the API")
        return error_response(500, "Internal error; it was logged. Retry later.")
