"""The sync API's yardstick: a Flask route answering a constant small JSON document.

Served by the same gunicorn settings as the real app, it measures what the web stack alone
costs on this machine today, so the sync API's figures can be read as a share of it.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)
CONSTANT = {"license": "constant", "agents": 25, "features": ["crm", "webrtc"]}


@app.get("/constant/<token>")
def constant(token: str) -> dict[str, object]:
    return CONSTANT
