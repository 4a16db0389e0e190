"""What every shipped request type promises, read off the workflow files themselves."""

from __future__ import annotations

from ticketbridge.config import PROJECT_ROOT
from ticketbridge.intake.vocabulary import CatalogueVocabulary
from ticketbridge.licenses.catalogue import load_catalogue
from ticketbridge.outbox.render import TemplateRenderer
from ticketbridge.steps import installed
from ticketbridge.workflow.definitions import Workflow
from ticketbridge.workflow.repository import load_folder

REQUEST_TYPES = {
    "demo",
    "plan",
    "add",
    "remove",
    "deactivate",
    "contract",
    "grace",
    "general",
    "key",
    "feature",
}


def shipped() -> dict[str, Workflow]:
    return load_folder(
        PROJECT_ROOT / "workflows",
        steps=installed.load(),
        templates=TemplateRenderer(PROJECT_ROOT / "email_templates"),
        forms=CatalogueVocabulary(load_catalogue(PROJECT_ROOT / "config" / "catalogue.yaml")),
    )


def test_all_ten_request_types_have_a_workflow() -> None:
    assert set(shipped()) == REQUEST_TYPES


def test_r19_every_way_into_a_final_state_sends_the_customer_an_outcome_email() -> None:
    silent = [
        f"{workflow.name}: {transition.name}"
        for workflow in shipped().values()
        for transition in workflow.transitions
        if not workflow.states[transition.source].is_final
        and workflow.states[transition.target].is_final
        and not (transition.emails or workflow.states[transition.target].emails)
    ]
    assert silent == []
