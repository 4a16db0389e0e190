"""The reads the staff pages and the staff API share: queue views, search, a ticket, a license.

Every read is a fixed number of queries whatever the page shows (no query per row), and each
queue view walks one of the partial indexes declared on `Ticket` in its own order, a page at a
time by keyset (the last row's sort key and id), so page 500 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, literal, null, or_, select, tuple_, union, union_all
from sqlalchemy.orm import Session, selectinload

from ticketbridge.customers.models import Customer
from ticketbridge.errors import ValidationError
from ticketbridge.licenses.models import EntitlementChange, License, UsageReport
from ticketbridge.outbox.models import OutboxEmail
from ticketbridge.staff.directory import staff_names
from ticketbridge.staff.models import StaffUser, TicketPresence
from ticketbridge.tickets.models import Ticket, WaitingOn

PAGE_SIZE = 50
SEARCH_LIMIT = 50
CLOSED_COUNT_CAP = 1000
MATCHED_CUSTOMERS = 200
PRESENCE_WINDOW = dt.timedelta(minutes=2)


class View(enum.StrEnum):
    """The queue's views; `staff` is the default, since it is the team's own work."""

    STAFF = "staff"
    CUSTOMER = "customer"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    OVERDUE = "overdue"
    TYPE = "type"
    STATE = "state"
    CLOSED = "closed"

    @property
    def heading(self) -> str:
        return VIEW_TITLES[self]


VIEW_TITLES = {
    View.STAFF: "Waiting on staff",
    View.CUSTOMER: "Waiting on customer",
    View.MINE: "Mine",
    View.UNASSIGNED: "Unassigned",
    View.OVERDUE: "Overdue",
    View.TYPE: "By request type",
    View.STATE: "By state",
    View.CLOSED: "Closed",
}


@dataclass(frozen=True)
class Query:
    """One view of the queue, as the page or the API asked for it."""

    view: View = View.STAFF
    request_type: str | None = None
    state: str | None = None
    after: str | None = None
    limit: int = PAGE_SIZE


@dataclass(frozen=True)
class QueueRow:
    id: int
    reference: str
    request_type: str
    state: str
    waiting_on: WaitingOn
    outcome: str | None
    customer_name: str
    customer_email: str
    license_token: str | None
    assignee_name: str | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    due_at: dt.datetime | None
    due_paused_seconds: int | None
    row_version: int

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "request_type": self.request_type,
            "state": self.state,
            "waiting_on": self.waiting_on.value,
            "outcome": self.outcome,
            "customer": {"name": self.customer_name, "email": self.customer_email},
            "license_token": self.license_token,
            "assignee": self.assignee_name,
            "created_at": self.created_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "row_version": self.row_version,
        }


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_after: str | None


@dataclass
class QueueCounts:
    views: Counter[View] = field(default_factory=Counter)
    """Per view; the closed view's count stops at CLOSED_COUNT_CAP."""
    by_type: Counter[str] = field(default_factory=Counter)
    by_state: Counter[tuple[str, str]] = field(default_factory=Counter)

    def shown(self, view: View) -> str:
        count = self.views[view]
        return f"{count}+" if view is View.CLOSED and count >= CLOSED_COUNT_CAP else str(count)


def _sort(view: View) -> tuple[Any, bool]:
    """The column a view is ordered by, and whether newest first (closed) instead of oldest."""
    if view is View.CLOSED:
        return Ticket.closed_at, True
    if view is View.OVERDUE:
        return Ticket.due_at, False
    return Ticket.created_at, False


def _rows_query() -> Select[Any]:
    return (
        select(
            Ticket.id,
            Ticket.request_type,
            Ticket.state,
            Ticket.waiting_on,
            Ticket.outcome,
            Customer.name,
            Customer.email,
            License.token,
            StaffUser.name,
            Ticket.created_at,
            Ticket.closed_at,
            Ticket.due_at,
            Ticket.due_paused_seconds,
            Ticket.row_version,
        )
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(License, License.id == Ticket.license_id)
        .outerjoin(StaffUser, StaffUser.id == Ticket.assignee_id)
    )


def _row(values: Sequence[Any]) -> QueueRow:
    return QueueRow(values[0], Ticket.reference_for(values[0]), *values[1:])


def _filtered(query: Select[Any], wanted: Query, *, me: int | None, now: dt.datetime) -> Any:
    view = wanted.view
    if view is View.CLOSED:
        return query.where(Ticket.outcome.is_not(None))
    query = query.where(Ticket.outcome.is_(None))
    match view:
        case View.STAFF:
            return query.where(Ticket.waiting_on == WaitingOn.STAFF)
        case View.CUSTOMER:
            return query.where(Ticket.waiting_on == WaitingOn.CUSTOMER)
        case View.MINE:
            return query.where(Ticket.assignee_id == me)
        case View.UNASSIGNED:
            return query.where(Ticket.assignee_id.is_(None))
        case View.OVERDUE:
            return query.where(Ticket.due_at < now)
        case View.TYPE:
            return query.where(Ticket.request_type == (wanted.request_type or ""))
        case View.STATE:
            query = query.where(Ticket.state == (wanted.state or ""))
            if wanted.request_type:
                query = query.where(Ticket.request_type == wanted.request_type)
            return query
    raise AssertionError(view)


def encode_after(value: dt.datetime, ticket_id: int) -> str:
    raw = json.dumps([value.isoformat(), ticket_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_after(text: str) -> tuple[dt.datetime, int]:
    try:
        padded = text + "=" * (-len(text) % 4)
        stamp, ticket_id = json.loads(base64.urlsafe_b64decode(padded))
        value = dt.datetime.fromisoformat(stamp)
        if value.tzinfo is None or not isinstance(ticket_id, int):
            raise ValueError(text)
        return value, ticket_id
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationError(
            {"after": ["not a page marker of this queue; start again from its first page"]}
        ) from None


def queue_page(session: Session, wanted: Query, *, me: int | None, now: dt.datetime) -> QueuePage:
    """One page of a view, in the view's order, from after the marker of the previous page."""
    column, newest_first = _sort(wanted.view)
    query = _filtered(_rows_query(), wanted, me=me, now=now)
    if wanted.after:
        value, ticket_id = decode_after(wanted.after)
        key = tuple_(column, Ticket.id)
        query = query.where(key < (value, ticket_id) if newest_first else key > (value, ticket_id))
    order = (column.desc(), Ticket.id.desc()) if newest_first else (column, Ticket.id)
    limit = max(1, min(wanted.limit, 200))
    rows = [_row(values) for values in session.execute(query.order_by(*order).limit(limit + 1))]
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        sort_value = {View.CLOSED: last.closed_at, View.OVERDUE: last.due_at}.get(
            wanted.view, last.created_at
        )
        assert sort_value is not None
        next_after = encode_after(sort_value, last.id)
    return QueuePage(rows, next_after)


def iter_view(
    session: Session, wanted: Query, *, me: int | None, now: dt.datetime
) -> Iterator[QueueRow]:
    """Every row of a view, a page at a time (the queue's CSV export)."""
    after = wanted.after
    while True:
        page = queue_page(
            session,
            Query(wanted.view, wanted.request_type, wanted.state, after, 200),
            me=me,
            now=now,
        )
        yield from page.rows
        if page.next_after is None:
            return
        after = page.next_after


CountRow = tuple[str | None, str | None, WaitingOn | None, int | None, int, int]
COUNTS_FRESH_FOR = 10.0


class CountsCache:
    """The counts of one process, reused for a few seconds by every staff member's pages.

    Counting the open tickets is the one part of a queue page that grows with the data: at
    100,000 tickets (20,000 open) one grouped pass over their covering index cost 10–20 ms,
    more than the rest of the page's queries together (bench/staff_queue.py). Queue pages come
    seconds apart, and a count a few seconds old tells a team the same. The rows of a page are
    always read fresh; only the counts beside them may lag, by at most `seconds`. The groups
    are kept per assignee, so each person's "mine" comes from the same rows."""

    def __init__(self, seconds: float = COUNTS_FRESH_FOR) -> None:
        self.seconds = seconds
        self._rows: list[CountRow] = []
        self._taken_at: float | None = None

    def rows(self, session: Session, now: dt.datetime) -> list[CountRow]:
        taken_at = self._taken_at
        if taken_at is None or time.monotonic() - taken_at >= self.seconds:
            started = time.monotonic()
            self._rows, self._taken_at = _count_rows(session, now), started
        return self._rows


def _count_rows(session: Session, now: dt.datetime) -> list[CountRow]:
    """One statement: the open tickets grouped by what the views filter on, with how many are
    overdue, from one pass over their covering index; then a last row (request type NULL)
    with the closed tickets counted up to CLOSED_COUNT_CAP (shown as "1000+": the closed pile
    only grows, and counting all of it would cost more than the rest of the page)."""
    open_groups = (
        select(
            Ticket.request_type,
            Ticket.state,
            Ticket.waiting_on,
            Ticket.assignee_id,
            func.count(),
            func.count().filter(Ticket.due_at < now),
        )
        .where(Ticket.outcome.is_(None))
        .group_by(Ticket.request_type, Ticket.state, Ticket.waiting_on, Ticket.assignee_id)
    )
    closed = select(Ticket.id).where(Ticket.outcome.is_not(None)).limit(CLOSED_COUNT_CAP)
    closed_count = select(
        null(),
        null(),
        null(),
        null(),
        select(func.count()).select_from(closed.subquery()).scalar_subquery(),
        literal(0),
    )
    return [tuple(row) for row in session.execute(union_all(open_groups, closed_count))]


def queue_counts(
    session: Session, *, me: int | None, now: dt.datetime, cache: CountsCache | None = None
) -> QueueCounts:
    """Every view's count, for the person `me` (their "mine"); through `cache` when given."""
    rows = cache.rows(session, now) if cache is not None else _count_rows(session, now)
    counts = QueueCounts()
    for request_type, state, waiting_on, assignee_id, count, overdue in rows:
        if request_type is None:
            counts.views[View.CLOSED] = count
            continue
        counts.by_type[request_type] += count
        counts.by_state[(request_type, state or "")] += count
        counts.views[View.OVERDUE] += overdue
        if waiting_on in (WaitingOn.STAFF, WaitingOn.CUSTOMER):
            counts.views[View.STAFF if waiting_on == WaitingOn.STAFF else View.CUSTOMER] += count
        if assignee_id is None:
            counts.views[View.UNASSIGNED] += count
        elif assignee_id == me:
            counts.views[View.MINE] += count
    counts.views[View.TYPE] = counts.views[View.STATE] = sum(counts.by_type.values())
    return counts


def search(session: Session, text: str, *, limit: int = SEARCH_LIMIT) -> list[QueueRow]:
    """Tickets by reference, license token (whole, in any case), or customer name or email (any
    part, in any case); newest first."""
    text = " ".join(text.split())[:200]
    if not text:
        return []
    ticket_id = Ticket.id_from_reference(text)
    if ticket_id is not None:
        condition = Ticket.id == ticket_id
    else:
        # One statement (each round trip counts on a loaded server): the tickets of the
        # matching customers and those of the license, each through its own index, as a UNION
        # of ids; an OR of the two conditions would make PostgreSQL scan every ticket. ILIKE,
        # not lower(…) LIKE: the customers' trigram indexes (customers/models.py) answer it on
        # PostgreSQL; SQLite spells it lower(…) LIKE lower(…).
        pattern = "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        customers = (
            select(Customer.id)
            .where(
                or_(
                    Customer.name.ilike(pattern, escape="\\"),
                    Customer.email.ilike(pattern, escape="\\"),
                )
            )
            .limit(MATCHED_CUSTOMERS)
        )
        # Tokens are not case-sensitive; uq_licenses_token_lower answers this.
        license = select(License.id).where(func.lower(License.token) == text.lower())
        matches = union(
            select(Ticket.id).where(Ticket.customer_id.in_(customers.scalar_subquery())),
            select(Ticket.id).where(Ticket.license_id.in_(license.scalar_subquery())),
        ).subquery()
        condition = Ticket.id.in_(select(matches.c.id))
    query = _rows_query().where(condition).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    return [_row(values) for values in session.execute(query.limit(limit))]


@dataclass(frozen=True)
class TicketPage:
    """A ticket with everything its staff page shows, loaded in a fixed number of queries."""

    ticket: Ticket
    outbox: dict[int, OutboxEmail]
    staff_names: dict[str, str]
    present: list[str]


def load_ticket(session: Session, ticket_id: int) -> Ticket | None:
    """A ticket with its timeline, messages, customer, license and assignee, in five queries."""
    return session.get(
        Ticket,
        ticket_id,
        options=[
            selectinload(Ticket.events),
            selectinload(Ticket.messages),
            selectinload(Ticket.customer),
            selectinload(Ticket.license),
            selectinload(Ticket.assignee),
        ],
        populate_existing=True,
    )


def ticket_page(
    session: Session, ticket_id: int, *, viewer: int | None, now: dt.datetime
) -> TicketPage | None:
    ticket = load_ticket(session, ticket_id)
    if ticket is None:
        return None
    message_ids = [m.id for m in ticket.messages]
    outbox = (
        {
            email.message_id: email
            for email in session.scalars(
                select(OutboxEmail).where(OutboxEmail.message_id.in_(message_ids))
            )
        }
        if message_ids
        else {}
    )
    names = staff_names(session, (event.actor for event in ticket.events))
    present = others_present(session, ticket_id, viewer=viewer, now=now)
    return TicketPage(ticket, outbox, names, present)


def others_present(
    session: Session, ticket_id: int, *, viewer: int | None, now: dt.datetime
) -> list[str]:
    """The other staff who had the ticket's page open in the last two minutes."""
    return list(
        session.scalars(
            select(StaffUser.name)
            .join(TicketPresence, TicketPresence.staff_id == StaffUser.id)
            .where(
                TicketPresence.ticket_id == ticket_id,
                TicketPresence.seen_at >= now - PRESENCE_WINDOW,
                TicketPresence.staff_id != viewer,
            )
            .order_by(StaffUser.name)
        )
    )


@dataclass(frozen=True)
class LicensePage:
    license: License
    ledger: list[tuple[EntitlementChange, str | None]]
    last_usage: UsageReport | None


def license_page(session: Session, token: str) -> LicensePage | None:
    license = session.scalars(
        select(License)
        .where(License.token == token)
        .options(
            selectinload(License.changes),
            selectinload(License.applications),
            selectinload(License.customer),
        )
    ).one_or_none()
    if license is None:
        return None
    last_usage = session.scalars(
        select(UsageReport)
        .where(UsageReport.license_id == license.id)
        .order_by(UsageReport.reported_at.desc(), UsageReport.id.desc())
        .limit(1)
    ).one_or_none()
    ledger = [
        (change, Ticket.reference_for(change.ticket_id) if change.ticket_id else None)
        for change in license.changes
    ]
    return LicensePage(license, ledger, last_usage)
