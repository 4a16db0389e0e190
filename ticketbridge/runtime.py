"""The composition root: every collaborator of one process, built once from its settings.

Only the edges build it — the app factory, the worker, the server and the CLI — and hand each
part of the core just what it uses. External systems (database, job queue, mail sender) are
chosen here by configuration, so the embedded default and production differ in this one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ticketbridge.config import Settings
from ticketbridge.db import Database
from ticketbridge.intake.email.ingest import FetchedMail, Ingestor
from ticketbridge.intake.mailbox.fetcher import Fetcher
from ticketbridge.intake.service import Intake
from ticketbridge.intake.vocabulary import CatalogueVocabulary
from ticketbridge.jobs.queue import InlineJobQueue, JobQueue, queue_for
from ticketbridge.jobs.tasks import Tasks
from ticketbridge.licenses.catalogue import Catalogue, load_catalogue
from ticketbridge.licenses.keys import KeyRing
from ticketbridge.licenses.signing import keyring_for
from ticketbridge.links import Links
from ticketbridge.outbox.render import TemplateRenderer
from ticketbridge.outbox.senders import Sender, sender_for
from ticketbridge.outbox.service import Outbox
from ticketbridge.steps import installed
from ticketbridge.steps.registry import StepRegistry, StepResources
from ticketbridge.workflow.engine import Engine
from ticketbridge.workflow.repository import WorkflowRepository


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    catalogue: Catalogue
    keyring: KeyRing
    steps: StepRegistry
    renderer: TemplateRenderer
    workflows: WorkflowRepository
    links: Links
    sender: Sender
    jobs: JobQueue
    outbox: Outbox
    engine: Engine
    intake: Intake
    tasks: Tasks

    def ingestor(
        self, mailbox: str, *, after_message: Callable[[FetchedMail], None] | None = None
    ) -> Ingestor:
        """The inbound pipeline of one mailbox, wired to this process's engine and outbox."""
        return Ingestor(
            mailbox,
            engine=self.engine,
            outbox=self.outbox,
            links=self.links,
            settings=self.settings,
            after_message=after_message,
        )

    def fetcher(self, *, after_message: Callable[[FetchedMail], None] | None = None) -> Fetcher:
        """The IMAP fetcher of the configured mailbox (`ticketbridge mail fetch`)."""
        return Fetcher(
            self.db,
            self.settings,
            engine=self.engine,
            outbox=self.outbox,
            links=self.links,
            after_message=after_message,
        )

    def close(self) -> None:
        self.db.dispose()


def build_runtime(
    settings: Settings, *, sender: Sender | None = None, jobs: JobQueue | None = None
) -> Runtime:
    """Load and check everything a process needs; an invalid workflow or catalogue stops start-up
    here. `sender` and `jobs` replace the configured ones (the simulator, tests, benchmarks).

    The database must already be migrated (`ticketbridge db upgrade`): the workflows folder is
    published to it, and the versions in force are read back from it.
    """
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    renderer = TemplateRenderer(settings.email_templates_path)
    steps = installed.load()
    catalogue = load_catalogue(settings.catalogue_path)
    workflows = WorkflowRepository(
        settings.workflows_path,
        db,
        steps=steps,
        templates=renderer,
        forms=CatalogueVocabulary(catalogue),
    )
    workflows.publish_folder()
    keyring = keyring_for(settings)
    links = Links(settings.secret_key, settings.public_url, settings.reply_domain)
    sender = sender or sender_for(settings)
    jobs = jobs or queue_for(settings)
    outbox = Outbox(settings, renderer, links, jobs)
    engine = Engine(
        workflows=workflows,
        steps=steps,
        resources=StepResources(catalogue, keyring, settings.secret_key),
        mailer=outbox,
        scheduler=jobs,
    )
    tasks = Tasks(db, engine, sender, mail_from=settings.mail_from)
    if isinstance(jobs, InlineJobQueue):
        jobs.attach(tasks)
    return Runtime(
        settings=settings,
        db=db,
        catalogue=catalogue,
        keyring=keyring,
        steps=steps,
        renderer=renderer,
        workflows=workflows,
        links=links,
        sender=sender,
        jobs=jobs,
        outbox=outbox,
        engine=engine,
        intake=Intake(engine, catalogue, settings.instance_path),
        tasks=tasks,
    )
