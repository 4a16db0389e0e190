"""The Flask application factory: nothing connects or reads the environment at import time."""

from __future__ import annotations

from flask import Flask

from ticketbridge import api, http
from ticketbridge.config import Settings, load_settings
from ticketbridge.runtime import Runtime, build_runtime


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    if runtime is None:
        runtime = build_runtime(settings or load_settings())
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(SECRET_KEY=runtime.settings.secret_key)
    app.extensions["ticketbridge"] = runtime

    from ticketbridge.api import requests, sync
    from ticketbridge.web import customer, public

    http.init_app(app, api_prefix=api.PREFIX, api_hint=api.HINT)
    app.register_blueprint(public.blueprint)
    app.register_blueprint(customer.blueprint)
    app.register_blueprint(sync.blueprint)
    app.register_blueprint(requests.blueprint)
    return app
