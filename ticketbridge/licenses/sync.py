"""What a customer's server fetches when it syncs (R16, R17, R18), and how it proves who it is.

The document is canonical JSON built only from the license's stored state, so an unchanged
license gives the same bytes on every poll: the ETag is their hash, and the next poll after a
feature change carries the change with no new license key (R16).

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
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from ticketbridge.errors import TicketbridgeError, ValidationError
from ticketbridge.licenses.catalogue import Catalogue, ItemKind
from ticketbridge.licenses.keys import KeyRing, b64url, canonical_json, verify_detached
from ticketbridge.licenses.models import AppState, License, LicenseState, UsageReport

SECRET_PREFIX = "tbs_"
_NO_SECRET_HASH = hashlib.sha256(b"no license has this secret").hexdigest()
SERVING_STATES = frozenset({LicenseState.TRIAL, LicenseState.ACTIVE, LicenseState.GRACE})
# R17: what a server reports, and the licensed limit each is measured against.
USAGE_LIMITS = {"concurrent_agents": "agents", "webphone_sessions": "webphone_sessions"}
# How far ahead of the verifier's clock an answer's issued_at may be (clock skew).
CLOCK_SKEW = dt.timedelta(minutes=5)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


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
    etag: str  # strong: quoted hash of the exact body


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


def find_license(session: Session, token: str, *options: ORMOption) -> License | None:
    """The license of `token` in any spelling of its case (tokens are not case-sensitive)."""
    return (
        session.scalars(
            select(License).where(func.lower(License.token) == token.lower()).options(*options)
        )
        .unique()
        .one_or_none()
    )


def authenticate(session: Session, token: str, secret: str, *options: ORMOption) -> License:
    """The license of `token` if `secret` is its sync secret; SyncDenied otherwise, in constant
    time.

    `options` load what the caller reads next in the same query (the GET: its applications).
    """
    license = find_license(session, token, *options)
    expected = (license.sync_secret_hash if license is not None else None) or _NO_SECRET_HASH
    matches = hmac.compare_digest(expected, secret_hash(secret))
    if license is None or license.sync_secret_hash is None or not matches:
        raise SyncDenied()
    return license


def validity(now: dt.datetime, ttl: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    """`issued_at` (now, rounded down to a quarter of the TTL) and `valid_until`."""
    step = max(int(ttl.total_seconds()) // 4, 1)
    seconds = int(now.timestamp())
    issued_at = dt.datetime.fromtimestamp(seconds - seconds % step, dt.UTC)
    return issued_at, issued_at + ttl


def sync_document(
    license: License, catalogue: Catalogue, now: dt.datetime, *, ttl: dt.timedelta
) -> SyncDocument:
    """The signed-to-be body of GET /api/v1/licenses/{token} and its ETag."""
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
    body = canonical_json(document)
    return SyncDocument(body, f'"{hashlib.sha256(body).hexdigest()[:40]}"')


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
