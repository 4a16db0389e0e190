"""Licenses, one per server token, and the append-only ledger of their entitlements.

The ledger is the record; `License.entitlements` is a snapshot of it kept in the same
transaction so reads (the sync API, the staff page) never replay history. Beside it: the
allowed applications with their dates (R18), the usage servers report (R17) and the token
moves of R14 (c), each its own table so nothing about a license's past is overwritten.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, func
from sqlalchemy import inspect as inspect_state
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ticketbridge.actors import Actor, ActorText
from ticketbridge.clock import utcnow
from ticketbridge.customers.models import Customer
from ticketbridge.db import Base, str_enum


class LicenseState(enum.StrEnum):
    NOT_ACTIVE = "not_active"
    TRIAL = "trial"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    EXPIRED = "expired"
    GRACE = "grace"


class License(Base):
    """A server token's license. Tokens are not case-sensitive: the first spelling seen is kept
    for display, and a unique index on its lower case makes every other spelling the same
    license (R2: `token-acme-0001` and `TOKEN-ACME-0001` share one demo)."""

    __tablename__ = "licenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[LicenseState] = mapped_column(
        str_enum(LicenseState), default=LicenseState.NOT_ACTIVE
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    plan: Mapped[str | None] = mapped_column(String(64))
    had_demo: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    entitlements: Mapped[dict[str, Any]] = mapped_column(default=dict)
    support_plan: Mapped[str | None] = mapped_column(String(32))
    billing_frequency: Mapped[str | None] = mapped_column(String(32))
    # Billing (R11, R12): the paid license starts, and a deactivation ends it, on these days.
    paid_since: Mapped[dt.datetime | None]
    billing_ends_on: Mapped[dt.date | None]
    # R15: what the customer's server showed, and the key issued for it.
    client_key: Mapped[str | None] = mapped_column(String(512))
    hash_key: Mapped[str | None] = mapped_column(String(512))
    license_key: Mapped[str | None] = mapped_column(Text)
    license_key_issued_at: Mapped[dt.datetime | None]
    license_key_issued_by: Mapped[Actor | None] = mapped_column(ActorText())
    # R16: SHA-256 of the sync secret issued with the license key; the secret is never stored.
    sync_secret_hash: Mapped[str | None] = mapped_column(String(64))
    # "Applied on your server": every change a ticket makes raises `revision`, and so does every
    # other change to what a server fetches (see `count_document_changes`): the sync API's ETag
    # is built from it. The sync API records the revision the server fetched last, and when.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    synced_revision: Mapped[int | None] = mapped_column(Integer)
    synced_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    customer: Mapped[Customer | None] = relationship()
    changes: Mapped[list[EntitlementChange]] = relationship(
        back_populates="license", order_by="EntitlementChange.id"
    )
    applications: Mapped[list[LicenseApplication]] = relationship(
        back_populates="license", order_by="LicenseApplication.app"
    )

    __mapper_args__ = {"version_id_col": row_version}


Index("uq_licenses_token_lower", func.lower(License.token), unique=True)


class EntitlementChange(Base):
    """One line of the ledger: an item's quantity before and after, why, when, and by whom."""

    __tablename__ = "entitlement_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("licenses.id"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    old_quantity: Mapped[int] = mapped_column(Integer)
    new_quantity: Mapped[int] = mapped_column(Integer)
    effective_at: Mapped[dt.datetime]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    actor: Mapped[Actor] = mapped_column(ActorText())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    license: Mapped[License] = relationship(back_populates="changes")


class AppState(enum.StrEnum):
    """The app license state a server shows under Allowed apps usage (R18)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


class LicenseApplication(Base):
    """One allowed application of a license (R18): when it was subscribed, until when, and its
    state.

    The application's on/off flag lives in the entitlement ledger like any item; this row adds
    the dates the ledger does not carry. Expiry is derived from `expires_at` when read.
    """

    __tablename__ = "license_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("licenses.id"), index=True)
    app: Mapped[str] = mapped_column(String(64))
    subscribed_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    state: Mapped[AppState] = mapped_column(str_enum(AppState), default=AppState.ACTIVE)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    license: Mapped[License] = relationship(back_populates="applications")

    __table_args__ = (UniqueConstraint("license_id", "app"),)


class UsageReport(Base):
    """What a server reported in use at one moment (R17); rows are only ever added."""

    __tablename__ = "license_usage_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("licenses.id"), index=True)
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    concurrent_agents: Mapped[int] = mapped_column(Integer)
    webphone_sessions: Mapped[int] = mapped_column(Integer)
    ai_conversations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """R8: conversations of each usage-billed add-on since the server's previous report."""


class TokenMove(Base):
    """R14 (c): the license moved from one server token to another; its history stays with it."""

    __tablename__ = "license_token_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("licenses.id"), index=True)
    old_token: Mapped[str] = mapped_column(String(128), index=True)
    new_token: Mapped[str] = mapped_column(String(128))
    moved_at: Mapped[dt.datetime]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    actor: Mapped[Actor] = mapped_column(ActorText())


class LicenseSyncWait(Base):
    """A ticket changed its license to `revision`; `synced_at` is when the server fetched it.

    The sync API fills `synced_at` when the server fetches that revision or a later one, adds a
    line to the ticket's timeline and fires the workflow's `license_synced` trigger.
    """

    __tablename__ = "license_sync_waits"

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("licenses.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[dt.datetime]
    synced_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("ticket_id", "revision"),)


DOCUMENT_COLUMNS = ("token", "state", "plan", "expires_at", "entitlements")
"""The columns of a license that its sync document (R16) shows; `revision` counts their changes.
The document also shows the license's applications, whose every change counts too."""


@event.listens_for(Session, "before_flush")
def count_document_changes(session: Session, _context: object, _instances: object) -> None:
    """Raise the revision of each license whose sync document a flush changes, unless the caller
    already did (a ticket's step, through `mark_changed`).

    Here rather than at each call site, so no writer (a step, the CLI, staff, a script) can change
    what a server fetches and leave its ETag as it was: the sync API answers 304 from the
    revision alone, without building the document, so a missed raise would be a stale 304."""
    changed: list[License] = []
    with session.no_autoflush:
        for row in session.dirty:
            if isinstance(row, License) and _changed(row, DOCUMENT_COLUMNS):
                changed.append(row)
        for row in (*session.new, *session.dirty, *session.deleted):
            if isinstance(row, LicenseApplication) and (
                row not in session.dirty or session.is_modified(row)
            ):
                license = row.license or (
                    session.get(License, row.license_id) if row.license_id else None
                )
                if license is not None:
                    changed.append(license)
    for license in dict.fromkeys(changed):
        if license not in session.new and not _changed(license, ("revision",)):
            license.revision = (license.revision or 0) + 1


def _changed(row: Base, names: tuple[str, ...]) -> bool:
    attributes = inspect_state(row).attrs
    return any(attributes[name].history.has_changes() for name in names)
