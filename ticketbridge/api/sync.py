"""The license server's sync API (R16, R17, R18): servers poll their license and report usage.

GET answers are signed (Ed25519, detached, over the exact body) so a server can trust them
offline with the public key it already trusts for license keys, and carry a strong ETag so
the common unchanged poll is a 304 with no body, no signing, and no license loaded.
"""

from __future__ import annotations

from typing import Any

import marshmallow
from flask import Blueprint, Response, request
from marshmallow import fields, validate

from ticketbridge.clock import utcnow
from ticketbridge.http.body import read_json_object
from ticketbridge.http.context import reads_no_workflows, runtime
from ticketbridge.http.csrf import exempt_token_authenticated
from ticketbridge.licenses.models import License
from ticketbridge.licenses.sync import (
    SyncDenied,
    authenticate,
    authenticate_version,
    authenticate_with_applications,
    document_etag,
    record_usage,
    sync_document,
)
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
@reads_no_workflows
def license_document(token: str) -> Response:
    """A poll with the ETag of the current answer is a 304 from one indexed row, read outside a
    transaction; anything else loads the license with its applications in one query, and opens
    a transaction only when the server fetches a revision for the first time (to record it)."""
    secret = _bearer_secret()
    now = utcnow()
    context = runtime()
    ttl, kid = context.settings.license_sync_ttl, context.keyring.active_kid
    if request.if_none_match:
        version = context.db.read(lambda session: authenticate_version(session, token, secret, now))
        etag = document_etag(version, context.catalogue, now, ttl=ttl, kid=kid)
        if version.fetched and request.if_none_match.contains_weak(etag.strip('"')):
            return _answer(None, etag)
    license = context.db.read(
        lambda session: authenticate_with_applications(session, token, secret)
    )
    if license.synced_revision != license.revision:
        with context.db.transaction() as session:
            license = authenticate_with_applications(session, token, secret)
            server_fetched(session, context.engine, license, now)
    document = sync_document(license, context.catalogue, now, ttl=ttl, kid=kid)
    if request.if_none_match.contains_weak(document.etag.strip('"')):
        return _answer(None, document.etag)
    return _answer(document.body, document.etag)


def _answer(body: bytes | None, etag: str) -> Response:
    """200 with the signed document, or 304 without one (`body` None)."""
    if body is None:
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/json")
        response.headers[KEY_ID_HEADER] = runtime().keyring.active_kid
        response.headers[SIGNATURE_HEADER] = runtime().keyring.sign(body)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache, private"
    return response


@blueprint.post("/licenses/<token>/usage")
@exempt_token_authenticated
@reads_no_workflows
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
