"""The workflow version in force comes from the database: a version published by one process
(the staff editor's `publish`, or a deploy's folder at start) is in force in every other one at
its next transaction, without a restart; a restart does not undo an editor's publication.

Each runtime below has its own engine, connection pool and in-memory workflows, as a separate
web process or worker has; the last test runs a real second process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflow.conftest import WfRuntime
from tests.workflow.helpers import submit, ticket
from ticketbridge.actors import Actor
from ticketbridge.app import create_app
from ticketbridge.config import PROJECT_ROOT
from ticketbridge.runtime import Runtime
from ticketbridge.workflow.definitions import Workflow
from ticketbridge.workflow.problems import WorkflowLoadError


def retitled(workflows_dir: Path, title: str) -> str:
    text = (workflows_dir / "review.yaml").read_text(encoding="utf-8")
    return text.replace("title: Reviewed request", f"title: {title}")


def publish(runtime: Runtime, text: str) -> Workflow:
    with runtime.db.transaction() as session:
        return runtime.workflows.publish(
            session, text, path="editor:review", actor=Actor.staff("ann@team.example")
        )


def test_a_version_published_in_one_process_opens_the_next_ticket_in_another(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    editor, web = make_wf_runtime(), make_wf_runtime()
    before = web.workflows.current("review").version
    published = publish(editor, retitled(workflows_dir, "Reviewed request, new form"))
    assert published.version != before
    ticket_id = submit(web, "review", reason="a")
    assert ticket(web, ticket_id).workflow_version == published.version
    assert web.workflows.current("review").title == "Reviewed request, new form"


def test_each_request_sees_the_version_in_force(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    editor, web = make_wf_runtime(), make_wf_runtime()
    client = create_app(runtime=web).test_client()
    assert "Reviewed request" in client.get("/requests/review").text
    publish(editor, retitled(workflows_dir, "Grace review"))
    assert "Grace review" in client.get("/requests/review").text


def test_a_restart_keeps_the_editors_version_and_a_deploy_replaces_it(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    published = publish(make_wf_runtime(), retitled(workflows_dir, "From the editor"))
    assert make_wf_runtime().workflows.current("review").version == published.version
    (workflows_dir / "review.yaml").write_text(
        retitled(workflows_dir, "From a deploy"), encoding="utf-8"
    )
    assert make_wf_runtime().workflows.current("review").title == "From a deploy"


def test_a_broken_text_is_refused_with_its_line_and_nothing_changes(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    editor = make_wf_runtime()
    before = editor.workflows.current("review").version
    broken = retitled(workflows_dir, "x").replace("initial: received", "initial: nowhere")
    with pytest.raises(WorkflowLoadError) as error:
        publish(editor, broken)
    assert str(error.value.problems[0]).startswith("editor:review:")
    editor.workflows.refresh()
    assert editor.workflows.current("review").version == before


def test_a_second_process_lists_the_published_version(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    editor = make_wf_runtime()
    published = publish(editor, retitled(workflows_dir, "Listed by another process"))
    settings = editor.settings
    listed = subprocess.run(
        [sys.executable, "-m", "ticketbridge", "workflows", "list"],
        env={
            "TICKETBRIDGE_DATABASE_URL": settings.database_url,
            "TICKETBRIDGE_WORKFLOWS_PATH": str(workflows_dir),
            "TICKETBRIDGE_INSTANCE_PATH": str(settings.instance_path),
            "TICKETBRIDGE_SECRET_KEY": settings.secret_key,
            "PATH": "/usr/bin:/bin",
        },
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"review\t{published.version}\tListed by another process" in listed.stdout
