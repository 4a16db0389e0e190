"""The sync API's yardstick: the real app, with one more route answering a constant small JSON.

It is `wsgi:app` itself plus this route, served by the same gunicorn settings, and marked like
the sync API's views, so each request passes through the same middleware stack (request
limits, CSRF, rate limiter, security headers, error mapping, the workflow check) and the
yardstick measures what the web stack costs on this machine today without the database; the
sync API's figures read as a share of it.
"""

from __future__ import annotations

from flask import Blueprint

from bench.sync_api import YARDSTICK_PREFIX
from ticketbridge.app import create_app
from ticketbridge.http.context import reads_no_workflows

CONSTANT = {"license": "constant", "agents": 25, "features": ["crm", "webrtc"]}

blueprint = Blueprint("yardstick", __name__, url_prefix=YARDSTICK_PREFIX)


@blueprint.get("/<token>")
@reads_no_workflows
def constant(token: str) -> dict[str, object]:
    return CONSTANT


app = create_app()
app.register_blueprint(blueprint)
