"""The one place where errors become answers: an HTML page for people, JSON under the API prefix.

Every exception is first turned into a `Problem` (status, title, a message written for the
reader, the field at fault), then rendered by path. Domain errors keep their status and message;
an unreachable database or Redis is a 503 that says to come back, with `Retry-After`; anything
unexpected is logged (with capability links cut) and answered with a plain 500. Nobody is ever
shown a traceback or an exception's own text.
"""

from __future__ import annotations

import dataclasses
import logging

import marshmallow
import redis.exceptions
import sqlalchemy.exc
from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ticketbridge.errors import ServiceUnavailable, TicketbridgeError
from ticketbridge.http.redact import redact

log = logging.getLogger(__name__)

OUTAGE_RETRY_SECONDS = 60
OUTAGES: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ServiceUnavailable,  # its message is written for operators: name the setting, not shown here
)
PAGE_MESSAGES = {
    404: "There is no such page. If you followed a link from an email, check that it was "
    "copied whole.",
    413: "What you sent is too large. Go back: your browser keeps what you typed; attach "
    "smaller files, or send fewer at a time.",
}


@dataclasses.dataclass(frozen=True)
class Problem:
    status: int
    title: str
    message: str
    field: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def problem_for(error: BaseException) -> Problem:
    """What the reader is told about `error`; never its traceback or its own repr."""
    if isinstance(error, OUTAGES):
        return Problem(
            503,
            "Temporarily unavailable",
            "The service cannot reach its database right now. Please try again in a few minutes.",
            headers={"Retry-After": str(OUTAGE_RETRY_SECONDS)},
        )
    if isinstance(error, TicketbridgeError):
        headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else {}
        return Problem(
            error.http_status, "Request not accepted", error.message, error.field, headers
        )
    if isinstance(error, marshmallow.ValidationError):
        return _invalid_body(error)
    if isinstance(error, CSRFError):
        return Problem(
            400,
            "Form expired",
            "This form has expired or was not sent from this site. Go back, reload the page "
            "and send it again.",
            "csrf_token",
        )
    if isinstance(error, HTTPException):
        return _http_problem(error)
    if isinstance(error, OUTAGES):
        return Problem(
            503,
            "Temporarily unavailable",
            "The service cannot reach its database right now. Please try again in a few minutes.",
            headers={"Retry-After": str(OUTAGE_RETRY_SECONDS)},
        )
    return Problem(
        500,
        "Something went wrong",
        "The error was logged; nothing you sent was lost. Please try again in a minute.",
    )


def _invalid_body(error: marshmallow.ValidationError) -> Problem:
    messages = error.messages if isinstance(error.messages, dict) else {"body": error.messages}
    name, problems = next(iter(messages.items()))
    problem = problems[0] if isinstance(problems, list) else str(problems)
    return Problem(400, "Invalid input", f"{name}: {problem}", str(name))


def _http_problem(error: HTTPException) -> Problem:
    status = error.code or 500
    headers = {}
    if status == 405:
        headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or ())
    if _in_api() and request.url_rule is None:
        # Routing failed: no API endpoint has this path or method.
        message = f"{error.name}: {current_app.config['TICKETBRIDGE_API_HINT']}"
    elif _in_api() or status not in PAGE_MESSAGES:
        message = error.description or error.name
    else:
        message = PAGE_MESSAGES[status]
    return Problem(status, error.name, message, headers=headers)


def _in_api() -> bool:
    return request.path.startswith(current_app.config["TICKETBRIDGE_API_PREFIX"])


def render(problem: Problem) -> Response:
    if _in_api():
        response = jsonify({"error": {"message": problem.message, "field": problem.field}})
    else:
        response = current_app.make_response(
            render_template("error.html", title=problem.title, message=problem.message)
        )
    response.status_code = problem.status
    response.headers.update(problem.headers)
    return response


def handle(error: Exception) -> Response:
    problem = problem_for(error)
    if problem.status == 500:
        log.exception("%s %s failed", request.method, redact(request.path))
    elif problem.status == 503:
        log.warning("%s %s: %s", request.method, redact(request.path), type(error).__name__)
    return render(problem)


def init_app(app: Flask) -> None:
    app.register_error_handler(Exception, handle)
