"""Finding or creating the customer behind a request."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.customers.models import Customer, clean_name
from ticketbridge.mailaddress import deliverable


def customers_by_email(session: Session, emails: Iterable[str]) -> dict[str, Customer]:
    """The customers of these addresses that exist, in one query: a fetcher batch asks for
    hundreds."""
    wanted = sorted({deliverable(email) for email in emails if email})
    if not wanted:
        return {}
    return {
        customer.email: customer
        for customer in session.scalars(select(Customer).where(Customer.email.in_(wanted)))
    }


def customer_for(
    session: Session, *, email: str, name: str, known: dict[str, Customer] | None = None
) -> Customer:
    """Email addresses identify customers, in their deliverable form (IDNA domains as xn--);
    the latest name given is kept on the customer, and each ticket keeps its own.

    `known` is a batch's lookup (from `customers_by_email`): an address missing from it is a
    new customer, added to it, so the batch asks the database nothing more. Without it, one
    query finds the customer. The new row is inserted at the caller's next flush.
    """
    email, name = deliverable(email), clean_name(name)
    if known is None:
        customer = session.scalars(select(Customer).where(Customer.email == email)).one_or_none()
    else:
        customer = known.get(email)
    if customer is None:
        customer = Customer(email=email, name=name)
        session.add(customer)
    elif name and customer.name != name:
        customer.name = name
    if known is not None:
        known[email] = customer
    return customer
