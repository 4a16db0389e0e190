"""Who did something to a ticket or a license: a customer, a staff member, the system, a timer.

Stored as the text the timeline and the ledger have always held — `customer:<email>`,
`staff:<id>`, `system`, `timer` — so rows written before this type read back typed. A staff
member is their account's id (`staff:42`): renaming the person, changing their address or
disabling the account keeps their history attached to them. Older rows held the address
(`staff:ann@team.example`; the migration after the staff app rewrites those it can match to an
account) or free-form text from earlier command-line runs; both read back as a staff actor
whose id is that text, named by the text when no account matches.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator


class ActorKind(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"
    TIMER = "timer"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str = ""

    @classmethod
    def customer(cls, email: str) -> Actor:
        return cls(ActorKind.CUSTOMER, email)

    @classmethod
    def staff(cls, id: str) -> Actor:
        """A staff member by free text: rows from before accounts, simulations and tests."""
        return cls(ActorKind.STAFF, id)

    @classmethod
    def staff_account(cls, account_id: int) -> Actor:
        """A staff member by their account's id, as the sign-in session and the API token
        name them."""
        return cls(ActorKind.STAFF, str(account_id))

    @property
    def account_id(self) -> int | None:
        """The staff account behind this actor, when it is one (not free text of old rows)."""
        if self.kind is ActorKind.STAFF and self.id.isdecimal() and self.id.isascii():
            return int(self.id)
        return None

    @classmethod
    def parse(cls, text: str) -> Actor:
        kind, separator, id = text.partition(":")
        if not separator and kind in (ActorKind.SYSTEM, ActorKind.TIMER):
            return cls(ActorKind(kind))
        if separator and kind in (ActorKind.CUSTOMER, ActorKind.STAFF) and id:
            return cls(ActorKind(kind), id)
        return cls.staff(text)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}" if self.id else str(self.kind)


SYSTEM = Actor(ActorKind.SYSTEM)
TIMER = Actor(ActorKind.TIMER)


class ActorText(TypeDecorator[Actor]):
    """An Actor column, kept as its text."""

    impl = String(200)
    cache_ok = True

    def process_bind_param(self, value: Actor | None, dialect: Any) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Any) -> Actor | None:
        return None if value is None else Actor.parse(value)
