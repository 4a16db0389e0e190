"""The one place where errors become pages: a domain error shows its message, nothing shows a
traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from ticketbridge.api.errors import API_PREFIX, api_routing_error
from ticketbridge.errors import TicketbridgeError

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    @app.errorhandler(TicketbridgeError)
    def domain_error(error: TicketbridgeError) -> tuple[str, int]:
        return render_template(
            "error.html", title="Request not accepted", message=error.message
        ), error.http_status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        if request.path.startswith(API_PREFIX):
            return api_routing_error(error)
        messages = {
            404: "There is no such page. If you followed a link from an email, check that it "
            "was copied whole."
        }
        return render_template(
            "error.html",
            title=error.name,
            message=messages.get(error.code or 500, error.description),
        ), error.code or 500

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error")
        return render_template(
            "error.html",
            title="Something went wrong",
            message="The error was logged; nothing you sent was lost. Please try again in a "
            "minute.",
        ), 500
