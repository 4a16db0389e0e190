"""The process's collaborators, built once from settings: the app, a worker and the CLI share it.

External systems (database, job queue, mail sender) are chosen here by configuration, so the
embedded default and production differ in this one place only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from ticketbridge.config import Settings
from ticketbridge.db import Database
from ticketbridge.intake.vocabulary import CatalogueVocabulary
from ticketbridge.licenses.catalogue import Catalogue, load_catalogue
from ticketbridge.licenses.keys import KeyRing
from ticketbridge.licenses.signing import keyring_for
from ticketbridge.links import Links
from ticketbridge.outbox.render import TemplateRenderer
from ticketbridge.outbox.senders import Sender, sender_for
from ticketbridge.steps.registry import StepRegistry
from ticketbridge.workflow.repository import WorkflowRepository

if TYPE_CHECKING:
    from ticketbridge.jobs.queue import JobQueue
    from ticketbridge.workflow.engine import Engine


@dataclass
class Services:
    settings: Settings
    db: Database
    catalogue: Catalogue
    steps: StepRegistry
    renderer: TemplateRenderer
    workflows: WorkflowRepository
    links: Links
    sender: Sender
    keyring: KeyRing

    @cached_property
    def jobs(self) -> JobQueue:
        from ticketbridge.jobs.queue import queue_for

        return queue_for(self)

    @cached_property
    def engine(self) -> Engine:
        from ticketbridge.workflow.engine import Engine

        return Engine(self)

    def close(self) -> None:
        self.db.dispose()


def build_services(settings: Settings, *, sender: Sender | None = None) -> Services:
    """Load and check everything a process needs; an invalid workflow or catalogue stops start-up
    here.

    The database must already be migrated (`ticketbridge db upgrade`): the versions of the
    workflows in force are recorded in it.
    """
    from ticketbridge.steps import registry

    settings.instance_path.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    renderer = TemplateRenderer(settings.email_templates_path)
    steps = registry.load()
    catalogue = load_catalogue(settings.catalogue_path)
    workflows = WorkflowRepository(
        settings.workflows_path,
        db,
        steps=steps,
        templates=renderer,
        forms=CatalogueVocabulary(catalogue),
    )
    workflows.record_versions()
    return Services(
        settings=settings,
        db=db,
        catalogue=catalogue,
        steps=steps,
        renderer=renderer,
        workflows=workflows,
        links=Links(settings.secret_key, settings.public_url, settings.reply_domain),
        sender=sender or sender_for(settings),
        keyring=keyring_for(settings),
    )
