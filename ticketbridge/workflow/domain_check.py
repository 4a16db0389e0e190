"""The checks that need the domain beside the workflow files: the license catalogue and the
email templates (`ticketbridge workflows check` runs them after the files load)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.workflow.catalogue_check import check_catalogue_names
from ticketbridge.workflow.definitions import Workflow
from ticketbridge.workflow.email_check import check_email_templates
from ticketbridge.workflow.problems import Problem


def domain_problems(
    workflows: Iterable[Workflow], catalogue: Catalogue, templates_folder: Path
) -> list[Problem]:
    workflows = list(workflows)
    problems = [p for w in workflows for p in check_catalogue_names(w, catalogue)]
    return problems + check_email_templates(workflows, templates_folder)
