"""The Flask application factory: nothing connects or reads the environment at import time."""

from __future__ import annotations

from flask import Flask

from ticketbridge import api, http
from ticketbridge.config import Settings, load_settings
from ticketbridge.http import context
from ticketbridge.replay import replay_last_closed
from ticketbridge.runtime import Runtime, build_runtime


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    built = runtime or build_runtime(settings or load_settings())
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(SECRET_KEY=built.settings.secret_key)
    app.extensions["ticketbridge"] = built

    from ticketbridge.api import requests, sync
    from ticketbridge.api import staff as staff_api
    from ticketbridge.web import customer, public, staff

    http.init_app(app, api_prefix=api.PREFIX, api_hint=api.HINT)
    app.before_request(_see_published_workflows)
    app.register_blueprint(public.blueprint)
    app.register_blueprint(customer.blueprint)
    app.register_blueprint(sync.blueprint)
    app.register_blueprint(requests.blueprint)
    app.register_blueprint(staff_api.blueprint)
    staff.init_app(app, replay=replay_last_closed)
    return app


def _see_published_workflows() -> None:
    """Each request that may read them sees the workflow versions in force now, published by
    any process."""
    if context.reads_workflows():
        context.runtime().workflows.refresh()
