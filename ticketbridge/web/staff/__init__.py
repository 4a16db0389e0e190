"""The staff side: sign-in, the queue, working a ticket, licenses and the admin pages.

One blueprint under /staff with its own templates and static files; `init_app` adds the
sign-in session (Flask-Login); the CSRF check and the rate limiter are the service's own (http/).
"""

from __future__ import annotations

from flask import Blueprint, Flask

from ticketbridge.staff.runs import Replay

blueprint = Blueprint(
    "staff",
    __name__,
    url_prefix="/staff",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


REPLAY = "ticketbridge.replay"
"""The app's replay of closed tickets against a draft, given by the app factory: it builds
throwaway runtimes, which a page may not do itself."""


def init_app(app: Flask, *, replay: Replay) -> None:
    app.extensions[REPLAY] = replay
    from ticketbridge.web.staff import (  # noqa: F401  (their routes)
        admin,
        auth,
        filters,
        licenses,
        queue,
        runs,
        tickets,
        workflows,
    )

    auth.init_app(app)
    filters.init_app(app)
    app.register_blueprint(blueprint)
