"""What the license emails add to their context, one function per email template.

The generic context (ticket, customer, license, form, links) comes from the outbox; an email
whose body needs more — the plugins' links (R9), the license key and its sync secret (R15) —
names its function here, with the variables it provides so `workflows check` can resolve every
variable a template uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ticketbridge.licenses.catalogue import ItemKind
from ticketbridge.licenses.sync import derive_sync_secret

if TYPE_CHECKING:
    from ticketbridge.services import Services
    from ticketbridge.tickets.models import Ticket


@dataclass(frozen=True)
class TemplateContext:
    variables: frozenset[str]
    build: Callable[[Services, Ticket], dict[str, Any]]


def _plugins(services: Services, ticket: Ticket) -> dict[str, Any]:
    """R9: each plugin this ticket switched on, with its catalogue download and docs links."""
    license = ticket.license
    on = {
        c.item
        for c in (license.changes if license else [])
        if c.ticket_id == ticket.id and c.new_quantity and not c.old_quantity
    }
    catalogue = services.catalogue
    return {"plugins": [p for p in catalogue.items_of(ItemKind.PLUGIN) if p.key in on]}


def _license_key(services: Services, ticket: Ticket) -> dict[str, Any]:
    """R15: the key to paste under Settings → Edit License, and the secret the server syncs with
    (derived again here: only its hash is stored)."""
    license = ticket.license
    if license is None or license.license_key is None:
        raise ValueError(f"ticket {ticket.reference} has no license key to send")
    return {
        "license_key": license.license_key,
        "sync_secret": derive_sync_secret(services.settings.secret_key, license),
    }


TEMPLATE_CONTEXTS: Mapping[str, TemplateContext] = {
    "plugin_instructions": TemplateContext(frozenset({"plugins"}), _plugins),
    "license_key_issued": TemplateContext(frozenset({"license_key", "sync_secret"}), _license_key),
}


def template_context(services: Services, ticket: Ticket, template: str) -> dict[str, Any]:
    extra = TEMPLATE_CONTEXTS.get(template)
    return extra.build(services, ticket) if extra else {}
