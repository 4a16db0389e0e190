"""Finding or creating the customer behind a request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.customers.models import Customer


def customer_for(session: Session, *, email: str, name: str) -> Customer:
    """Email addresses identify customers; the latest name given is kept."""
    email = email.strip().lower()
    customer = session.scalars(select(Customer).where(Customer.email == email)).one_or_none()
    if customer is None:
        customer = Customer(email=email, name=name)
        session.add(customer)
        session.flush()
    elif name and customer.name != name:
        customer.name = name
    return customer
