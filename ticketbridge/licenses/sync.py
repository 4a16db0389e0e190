"""What a customer's server fetches when it syncs (R16, R17, R18), and how it proves who it is.

The document is canonical JSON built only from the license's stored state, so an unchanged
license gives the same bytes on every poll, and the next poll after a feature change carries
the change with no new license key (R16). Its strong ETag is a hash of what those bytes and
their signature are made of — the license's revision (raised by every change to what the
document shows), how many of its applications have expired by now, the validity step, the
TTL, the catalogue and the signing key — so the common unchanged poll is answered 304 from
one indexed row, without loading the license or building the document.

A server authenticates with the sync secret issued with its license key. The secret is
derived (HMAC of the service's secret key, the license and the issue time), so the outcome
email can be composed again from the database, and only its SHA-256 is stored: verification
does not depend on the service's secret key, and a leaked database reveals no secret.
An unknown token and a wrong secret fail identically, so tokens cannot be probed.

Every answer carries `issued_at` and `valid_until` inside what is signed (like Keygen's license
files): a server refuses an answer past its `valid_until`, and one older than the newest it has
seen, so a captured answer cannot be replayed to it forever. `issued_at` moves in steps of a
quarter of the TTL, so polls within a step get the same bytes (ETag and 304 keep working) and
every answer fetched has at least three quarters of its TTL left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from ticketbridge.errors import TicketbridgeError, ValidationError
from ticketbridge.licenses.catalogue import Catalogue, ItemKind
from ticketbridge.licenses.keys import KeyRing, b64url, canonical_json, verify_detached
from ticketbridge.licenses.models import (
    AppState,
    License,
    LicenseApplication,
    LicenseState,
    UsageReport,
)

SECRET_PREFIX = "tbs_"
_NO_SECRET_HASH = hashlib.sha256(b"no license has this secret").hexdigest()
SERVING_STATES = frozenset({LicenseState.TRIAL, LicenseState.ACTIVE, LicenseState.GRACE})
# R17: what a server reports, and the licensed limit each is measured against.
USAGE_LIMITS = {"concurrent_agents": "agents", "webphone_sessions": "webphone_sessions"}
# How far ahead of the verifier's clock an answer's issued_at may be (clock skew).
CLOCK_SKEW = dt.timedelta(minutes=5)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
Found = TypeVar("Found")
DOCUMENT_FORMAT = 1
"""Part of every ETag: raise it when a release changes what the document shows or how, so that
servers holding an answer in the old shape get the new one instead of a 304."""


class SyncDenied(TicketbridgeError):
    """No license for this token and secret; deliberately silent about which one is wrong."""

    http_status = 401

    def __init__(
        self,
        message: str = "The server token and sync secret do not match a license. "
        "Enter the license key and sync secret from the license email.",
    ) -> None:
        super().__init__(message, field="Authorization")


class InvalidSyncAnswer(TicketbridgeError):
    """A sync answer a server must not apply: altered, unsigned by a known key, or out of date."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="X-License-Signature")


@dataclass(frozen=True)
class SyncDocument:
    body: bytes
    etag: str  # strong: see `document_etag`


@dataclass(frozen=True)
class SyncVersion:
    """What a license's sync ETag is made of, read in one indexed query with the secret's hash."""

    license_id: int
    token: str
    revision: int
    expired_apps: int
    fetched: bool
    """The server already fetched this revision, so a 304 has nothing to record."""


def derive_sync_secret(secret_key: str, license: License) -> str:
    """The sync secret that goes with the license key issued last (for its email, again if need
    be)."""
    if license.license_key_issued_at is None:
        raise ValueError(f"license {license.token} has no license key, so no sync secret")
    message = f"license-sync:{license.id}:{int(license.license_key_issued_at.timestamp())}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return SECRET_PREFIX + b64url(digest)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def find_license(session: Session, token: str) -> License | None:
    """The license of `token` in any spelling of its case (tokens are not case-sensitive)."""
    return session.scalars(
        select(License).where(func.lower(License.token) == token.lower())
    ).one_or_none()


def authenticate(session: Session, token: str, secret: str) -> License:
    """The license of `token` if `secret` is its sync secret; SyncDenied otherwise, in constant
    time."""
    license = find_license(session, token)
    return _if_secret_matches(license, license.sync_secret_hash if license else None, secret)


def authenticate_with_applications(session: Session, token: str, secret: str) -> License:
    """`authenticate`, loading the applications in the same query: the document shows them."""
    license = (
        session.scalars(_LICENSE_WITH_APPLICATIONS, {"token": token.lower()}).unique().one_or_none()
    )
    return _if_secret_matches(license, license.sync_secret_hash if license else None, secret)


def authenticate_version(
    session: Session, token: str, secret: str, now: dt.datetime
) -> SyncVersion:
    """`authenticate` for a poll that may be answered 304: only the ETag's inputs, in one query
    on the token's unique index (applications expired by `now` are counted in a subquery)."""
    # On the connection: a statement of columns needs none of the ORM's per-query work.
    parameters = {"token": token.lower(), "now": now}
    row = session.connection().execute(_VERSION_QUERY, parameters).one_or_none()
    found = _if_secret_matches(row, row.sync_secret_hash if row else None, secret)
    return SyncVersion(
        found.id,
        found.token,
        found.revision,
        found.expired_apps,
        fetched=found.synced_revision == found.revision,
    )


# Built once: each poll then skips building its statement and the statement's cache key.
_LICENSE_WITH_APPLICATIONS = (
    select(License)
    .where(func.lower(License.token) == bindparam("token"))
    .options(joinedload(License.applications))
)
_VERSION_QUERY = select(
    License.id,
    License.token,
    License.revision,
    License.synced_revision,
    License.sync_secret_hash,
    select(func.count(LicenseApplication.id))
    .where(
        LicenseApplication.license_id == License.id,
        LicenseApplication.expires_at <= bindparam("now"),
    )
    .scalar_subquery()
    .label("expired_apps"),
).where(func.lower(License.token) == bindparam("token"))


def version_of(license: License, now: dt.datetime) -> SyncVersion:
    """The ETag inputs of a loaded license (with its applications), as `authenticate_version`
    reads them."""
    expired = sum(
        1 for row in license.applications if row.expires_at is not None and row.expires_at <= now
    )
    return SyncVersion(
        license.id,
        license.token,
        license.revision,
        expired,
        fetched=license.synced_revision == license.revision,
    )


def _if_secret_matches(found: Found | None, stored_hash: str | None, secret: str) -> Found:
    """`found` if `secret` hashes to its `stored_hash`, else SyncDenied; as slow when nothing was
    found.

    One SHA-256: the secret is 32 random bytes, so unlike a password it cannot be guessed from
    its hash, and a slow KDF would only slow every poll (tokens of this kind are stored so)."""
    matches = hmac.compare_digest(stored_hash or _NO_SECRET_HASH, secret_hash(secret))
    if found is None or stored_hash is None or not matches:
        raise SyncDenied()
    return found


def document_etag(
    version: SyncVersion,
    catalogue: Catalogue,
    now: dt.datetime,
    *,
    ttl: dt.timedelta,
    kid: str,
) -> str:
    """The strong ETag of the document `sync_document` builds for `version` at `now`, signed by
    `kid`: equal ETags mean equal bytes and signer, without building either.

    Every input of the document is here: the revision stands for the license's stored state
    and applications, the count of expired applications for the labels that change with time,
    the validity step for `issued_at` and `valid_until`."""
    issued_at, _ = validity(now, ttl)
    inputs = (
        DOCUMENT_FORMAT,
        version.license_id,
        version.token,
        version.revision,
        version.expired_apps,
        int(issued_at.timestamp()),
        int(ttl.total_seconds()),
        catalogue.items_fingerprint,
        kid,
    )
    digest = hashlib.sha256(repr(inputs).encode()).hexdigest()[:32]
    return f'"{version.revision}-{digest}"'


def validity(now: dt.datetime, ttl: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    """`issued_at` (now, rounded down to a quarter of the TTL) and `valid_until`."""
    step = max(int(ttl.total_seconds()) // 4, 1)
    seconds = int(now.timestamp())
    issued_at = dt.datetime.fromtimestamp(seconds - seconds % step, dt.UTC)
    return issued_at, issued_at + ttl


def sync_document(
    license: License, catalogue: Catalogue, now: dt.datetime, *, ttl: dt.timedelta, kid: str
) -> SyncDocument:
    """The body of GET /api/v1/licenses/{token}, to be signed by `kid`, and its ETag."""
    issued_at, valid_until = validity(now, ttl)
    entitlements = {key: int(quantity) for key, quantity in (license.entitlements or {}).items()}

    def flags(kind: ItemKind) -> dict[str, bool]:
        return {item.key: bool(entitlements.get(item.key)) for item in catalogue.items_of(kind)}

    document: dict[str, Any] = {
        "token": license.token,
        "state": license.state.value,
        "plan": license.plan,
        "revision": license.revision,
        "expires_at": _iso(license.expires_at),
        "limits": {
            "max_concurrent_agents": entitlements.get("agents", 0),
            "max_concurrent_webphone_sessions": entitlements.get("webphone_sessions", 0),
            "web_dialer_capacity": entitlements.get("webdialer_capacity", 0),
        },
        "features": flags(ItemKind.FEATURE),
        "add_ons": flags(ItemKind.ADD_ON),
        "plugins": flags(ItemKind.PLUGIN),
        "applications": allowed_apps(license, catalogue, now),
        "entitlements": entitlements,
        "issued_at": _iso(issued_at),
        "valid_until": _iso(valid_until),
    }
    etag = document_etag(version_of(license, now), catalogue, now, ttl=ttl, kid=kid)
    return SyncDocument(canonical_json(document), etag)


def verify_sync_answer(
    keys: KeyRing, kid: str, body: bytes, signature: str, now: dt.datetime
) -> dict[str, Any]:
    """The document of a sync answer a server may apply now; InvalidSyncAnswer for any other.

    What a server's client must do too (README): check the signature over the exact bytes, then
    that `issued_at` is not in the future and `valid_until` not in the past.
    """
    if not verify_detached(keys, kid, body, signature):
        raise InvalidSyncAnswer(
            "The signature does not match: the answer was altered, or signed by a key this "
            "service does not know."
        )
    document = json.loads(body)
    try:
        issued_at, valid_until = (
            dt.datetime.strptime(document[name], TIME_FORMAT).replace(tzinfo=dt.UTC)
            for name in ("issued_at", "valid_until")
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidSyncAnswer(
            "The answer has no issued_at and valid_until: it comes from a version that did not "
            "date its answers; fetch a fresh one."
        ) from None
    if now >= valid_until:
        raise InvalidSyncAnswer(
            f"The answer expired at {_iso(valid_until)}; fetch a fresh one from the license server."
        )
    if issued_at > now + CLOCK_SKEW:
        raise InvalidSyncAnswer(
            f"The answer is dated {_iso(issued_at)}, in the future; check this machine's clock."
        )
    return dict(document)


def allowed_apps(license: License, catalogue: Catalogue, now: dt.datetime) -> list[dict[str, Any]]:
    """R18: each application the license has or had, with its dates and app license state."""
    rows = {row.app: row for row in license.applications}
    apps = []
    for item in catalogue.items_of(ItemKind.APPLICATION):
        row, enabled = rows.get(item.key), bool((license.entitlements or {}).get(item.key))
        if row is None and not enabled:
            continue
        apps.append(
            {
                "app": item.key,
                "title": item.title,
                "subscribed_at": _iso(row.subscribed_at if row else None),
                "expires_at": _iso(row.expires_at if row else None),
                "state": app_state_label(
                    license,
                    row.state if row else AppState.ACTIVE,
                    row.expires_at if row else None,
                    enabled,
                    now,
                ),
            }
        )
    return apps


def app_state_label(
    license: License,
    state: AppState,
    expires_at: dt.datetime | None,
    enabled: bool,
    now: dt.datetime,
) -> str:
    """The words the server shows (R18), e.g. "License Active"; expiry is read off the date."""
    if license.state not in SERVING_STATES:
        return "License Inactive"
    if expires_at is not None and expires_at <= now:
        return "License Expired"
    if state is AppState.SUSPENDED or not enabled:
        return "License Suspended"
    return "License Active"


def record_usage(
    session: Session,
    license: License,
    *,
    concurrent_agents: int,
    webphone_sessions: int,
    now: dt.datetime,
    catalogue: Catalogue,
    ai_conversations: Mapping[str, int] | None = None,
) -> UsageReport:
    """Store one report; `ai_conversations` counts, per usage-billed add-on, what happened since the
    last one (R8)."""
    billed = sorted(key for key, item in catalogue.items.items() if item.billed_on_usage)
    for key in ai_conversations or {}:
        if key not in billed:
            raise ValidationError(
                {
                    f"ai_conversations.{key}": [
                        f"not an add-on billed on usage; use one of: {', '.join(billed)}"
                    ]
                }
            )
    report = UsageReport(
        license_id=license.id,
        reported_at=now,
        concurrent_agents=concurrent_agents,
        webphone_sessions=webphone_sessions,
        ai_conversations=dict(ai_conversations or {}),
    )
    session.add(report)
    session.flush()
    return report


@dataclass(frozen=True)
class UsageLine:
    """One R17 line for staff: in use now, the peak over the window, and the licensed limit."""

    measure: str
    in_use: int
    peak: int
    licensed: int

    @property
    def over_limit(self) -> bool:
        return self.peak > self.licensed


@dataclass(frozen=True)
class UsageSummary:
    reported_at: dt.datetime | None
    lines: tuple[UsageLine, ...]


def usage_against_limits(session: Session, license: License, *, since: dt.datetime) -> UsageSummary:
    """The latest report and the peaks since `since`, against the licensed limits (R17)."""
    latest = session.scalars(
        select(UsageReport)
        .where(UsageReport.license_id == license.id)
        .order_by(UsageReport.id.desc())
        .limit(1)
    ).one_or_none()
    peaks = session.execute(
        select(
            func.max(UsageReport.concurrent_agents), func.max(UsageReport.webphone_sessions)
        ).where(UsageReport.license_id == license.id, UsageReport.reported_at >= since)
    ).one()
    entitlements = license.entitlements or {}
    lines = tuple(
        UsageLine(
            measure,
            getattr(latest, measure) if latest else 0,
            peak or 0,
            int(entitlements.get(item, 0)),
        )
        for (measure, item), peak in zip(USAGE_LIMITS.items(), peaks, strict=True)
    )
    return UsageSummary(latest.reported_at if latest else None, lines)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime(TIME_FORMAT) if value else None
