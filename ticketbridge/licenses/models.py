"""Licenses, one per server token, and the append-only ledger of their entitlements.

The ledger is the record; `License.entitlements` is a snapshot of it kept in the same
transaction so reads (the sync API, the staff page) never replay history.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    customer: Mapped[Customer | None] = relationship()
    changes: Mapped[list[EntitlementChange]] = relationship(
        back_populates="license", order_by="EntitlementChange.id"
    )

    __mapper_args__ = {"version_id_col": row_version}


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
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    license: Mapped[License] = relationship(back_populates="changes")
