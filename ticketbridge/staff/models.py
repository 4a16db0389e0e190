"""Staff accounts: support agents work the queue, admins also edit workflows and staff."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ticketbridge.clock import utcnow
from ticketbridge.db import Base, str_enum


class StaffRole(enum.StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
