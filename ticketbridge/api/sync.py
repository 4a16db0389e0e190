"""The license server's sync API (R16, R17, R18): servers poll their license and report usage.

GET answers are signed (Ed25519, detached, over the exact body) so a server can trust them
offline with the public key it already trusts for license keys, and carry a strong ETag so
the common unchanged poll is a 304 with no body and no signing.
"""

from __future__ import annotations

from typing import Any

import marshmallow
from flask import Blueprint, Response, request
from marshmallow import fields, validate
from sqlalchemy.orm import joinedload

from ticketbridge.clock import utcnow
from ticketbridge.http.body import read_json_object
from ticketbridge.http.context import runtime
from ticketbridge.http.csrf import exempt_token_authenticated
from ticketbridge.licenses.models import License
from ticketbridge.licenses.sync import SyncDenied, authenticate, record_usage, sync_document
from ticketbridge.workflow.sync_events import server_fetched

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_BODY_BYTES = 4096
MAX_COUNT = 1_000_000
SIGNATURE_HEADER = "X-License-Signature"
KEY_ID_HEADER = "X-License-Key-Id"


class Count(fields.Integer):
    """A whole number in range; JSON true/false and 5.0 are refused rather than read as numbers."""

    def __init__(self) -> None:
        super().__init__(
            strict=True,
            required=True,
            validate=validate.Range(min=0, max=MAX_COUNT),
            error_messages={
                "invalid": f"must be a whole number from 0 to {MAX_COUNT}",
                "required": "is required: the number in use now",
                "null": f"must be a whole number from 0 to {MAX_COUNT}, not null",
            },
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return int(super()._deserialize(value, attr, data, **kwargs))


class UsageReportSchema(marshmallow.Schema):
    """R17: what the server has in use now."""

    concurrent_agents = Count()
    webphone_sessions = Count()
    ai_conversations = fields.Dict(keys=fields.String(), values=Count(), load_default=dict)


@blueprint.get("/licenses/<token>")
def license_document(token: str) -> Response:
    secret = _bearer_secret()
    now = utcnow()
    with runtime().db.transaction() as session:
        license = authenticate(session, token, secret, joinedload(License.applications))
        document = sync_document(
            license, runtime().catalogue, now, ttl=runtime().settings.license_sync_ttl
        )
        server_fetched(session, runtime().engine, license, now)
    response = (
        Response(status=304)
        if request.if_none_match.contains_weak(document.etag.strip('"'))
        else Response(document.body, mimetype="application/json")
    )
    response.headers["ETag"] = document.etag
    response.headers["Cache-Control"] = "no-cache, private"
    if response.status_code == 200:
        response.headers[KEY_ID_HEADER] = runtime().keyring.active_kid
        response.headers[SIGNATURE_HEADER] = runtime().keyring.sign(document.body)
    return response


@blueprint.post("/licenses/<token>/usage")
@exempt_token_authenticated
def report_usage(token: str) -> tuple[dict[str, Any], int]:
    """The body is read only once the server has proved who it is, and outside any transaction,
    so a slow or hostile client holds no database connection while it sends."""
    secret = _bearer_secret()
    with runtime().db.transaction() as session:
        license_id = authenticate(session, token, secret).id
    body = read_json_object(
        MAX_BODY_BYTES, example='{"concurrent_agents": N, "webphone_sessions": N}'
    )
    usage = UsageReportSchema().load(body)
    with runtime().db.transaction() as session:
        license = session.get_one(License, license_id)
        report = record_usage(
            session, license, now=utcnow(), catalogue=runtime().catalogue, **usage
        )
        return {"recorded_at": report.reported_at.isoformat(), **usage}, 201


def _bearer_secret() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise SyncDenied(
            "Send the sync secret from the license email as: Authorization: Bearer <secret>."
        )
    return secret.strip()
