"""What the license emails add to their context, one function per email template.

The outbox gives every email the ticket, its customer, license, form and links; an email whose
body needs more — the plugins' links (R9), the license key and its sync secret (R15), the plan
options awaiting the team's check (R6) — names its function here, with the variables it
provides, so `workflows check` can resolve every variable a template uses. The engine adds
them when it queues the transition's emails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ticketbridge.forms.common import all_fields
from ticketbridge.forms.display import answered
from ticketbridge.forms.fields import FormSpec
from ticketbridge.licenses.catalogue import Catalogue, Item, ItemKind
from ticketbridge.licenses.models import License
from ticketbridge.licenses.sync import derive_sync_secret
from ticketbridge.tickets.models import Ticket

# R6: the options of a new plan the team applies after its administrative check.
PLAN_OPTIONS = ("support_plan", "billing_frequency", "white_label", "add_ons", "plugins")


@dataclass(frozen=True)
class EmailSources:
    """What the template functions read beside the ticket: the catalogue, the service's secret
    key (to derive the sync secret again) and the ticket's form."""

    catalogue: Catalogue
    secret_key: str = field(repr=False)
    form: FormSpec = field(default_factory=FormSpec)


@dataclass(frozen=True)
class TemplateContext:
    variables: frozenset[str]
    build: Callable[[EmailSources, Ticket], dict[str, Any]]


def plugins_turned_on(catalogue: Catalogue, license: License | None, ticket_id: int) -> list[Item]:
    """R9: the plugins this ticket's ledger rows switched on, in catalogue order."""
    on = {
        c.item
        for c in (license.changes if license else [])
        if c.ticket_id == ticket_id and c.new_quantity and not c.old_quantity
    }
    return [p for p in catalogue.items_of(ItemKind.PLUGIN) if p.key in on]


def _plugins(sources: EmailSources, ticket: Ticket) -> dict[str, Any]:
    """R9: each plugin this ticket switched on, with its catalogue download and docs links."""
    return {"plugins": plugins_turned_on(sources.catalogue, ticket.license, ticket.id)}


def _license_key(sources: EmailSources, ticket: Ticket) -> dict[str, Any]:
    """R15: the key to paste under Settings → Edit License, and the secret the server syncs with
    (derived again here: only its hash is stored)."""
    license = ticket.license
    if license is None or license.license_key is None:
        raise ValueError(f"ticket {ticket.reference} has no license key to send")
    return {
        "license_key": license.license_key,
        "sync_secret": derive_sync_secret(sources.secret_key, license),
    }


def _plan_options(sources: EmailSources, ticket: Ticket) -> dict[str, Any]:
    """R6: what the team checks before applying, as the customer answered it on the form."""
    fields = [f for f in all_fields(sources.form) if f.name in PLAN_OPTIONS]
    return {"options": answered(fields, ticket.form_data or {})}


TEMPLATE_CONTEXTS: Mapping[str, TemplateContext] = {
    "plugin_instructions": TemplateContext(frozenset({"plugins"}), _plugins),
    "license_key_issued": TemplateContext(frozenset({"license_key", "sync_secret"}), _license_key),
    "awaiting_admin_check": TemplateContext(frozenset({"options"}), _plan_options),
}


def template_context(template: str, sources: EmailSources, ticket: Ticket) -> dict[str, Any]:
    extra = TEMPLATE_CONTEXTS.get(template)
    return extra.build(sources, ticket) if extra else {}
