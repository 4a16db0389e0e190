"""Who a staff actor is: the name of the account behind each staff actor of a page, in one query.

Staff actors carry their account's id, so a renamed person shows under their new name and a
disabled account still names whoever acted. Rows from before the ids (an address, free text
typed on the command line) are matched by address, and otherwise named by their own text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor, ActorKind
from ticketbridge.staff.models import StaffUser


def staff_names(session: Session, actors: Iterable[Actor]) -> dict[str, str]:
    """Each staff actor's id text → the person's name, for the actors that match an account."""
    wanted = {actor for actor in actors if actor.kind is ActorKind.STAFF}
    ids = {actor.account_id for actor in wanted} - {None}
    addresses = {actor.id.lower() for actor in wanted if actor.account_id is None}
    if not wanted:
        return {}
    names: dict[str, str] = {}
    for account_id, email, name in session.execute(
        select(StaffUser.id, StaffUser.email, StaffUser.name).where(
            or_(StaffUser.id.in_(ids), func.lower(StaffUser.email).in_(addresses))
        )
    ):
        if account_id in ids:
            names[str(account_id)] = name
        if email.lower() in addresses:
            names.update({a.id: name for a in wanted if a.id.lower() == email.lower()})
    return names


def name_of(session: Session, actor: Actor) -> str:
    """One actor as a person reads it: the staff member's name, else the actor's own text."""
    return who(actor, staff_names(session, [actor]))


def who(actor: Actor, names: Mapping[str, str]) -> str:
    """An actor as pages and the API show it, given `staff_names` of the actors around it."""
    return names.get(actor.id, actor.id) if actor.kind is ActorKind.STAFF else str(actor)
