"""`ticketbridge serve`: gunicorn in-process, plus the sweeper on the embedded default.

On the embedded default there is no worker process, so the web process sweeps: every
`sweep_interval_seconds` it re-runs whatever the database says is due (retries, lost jobs).
SQLite allows one writer, so the embedded default uses one process with threads.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from ticketbridge.app import create_app
from ticketbridge.config import Settings
from ticketbridge.http.redact import RedactingLogger
from ticketbridge.runtime import build_runtime
from ticketbridge.worker import start_sweeper


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        runtime = build_runtime(self.settings)
        if self.settings.embedded:
            start_sweeper(runtime)
        return create_app(runtime=runtime)


def run_server(settings: Settings, *, host: str, port: int, workers: int | None) -> None:
    on_sqlite = settings.database_url.startswith("sqlite")
    options = {
        "bind": f"{host}:{port}",
        "workers": 1 if on_sqlite else (workers or 2),
        "worker_class": "gthread",
        "threads": 4,
        "accesslog": "-",
        "logger_class": RedactingLogger,
        "timeout": 60,
    }
    _Server(settings, options).run()
