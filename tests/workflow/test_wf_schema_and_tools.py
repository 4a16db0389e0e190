"""The shipped JSON Schema equals a fresh generation and accepts the shipped workflows; graph
and simulate show a workflow without touching real data."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from tests.workflow.conftest import WORKFLOW_FILES
from ticketbridge.cli import main
from ticketbridge.config import PROJECT_ROOT
from ticketbridge.intake.checks import CHECKS
from ticketbridge.steps import installed
from ticketbridge.workflow.schema import SCHEMA_FILE_NAME, schema_text

SHIPPED = PROJECT_ROOT / "workflows" / SCHEMA_FILE_NAME
CUSTOMER = {
    "token": "SRV-7f3a9c2e51",
    "customer_name": "Acme",
    "customer_email": "ops@acme.example",
    "accept_conditions": True,
}


def test_the_shipped_schema_is_the_generated_one() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == schema_text(installed.load(), CHECKS.names()), (
        "run `ticketbridge workflows schema --write`"
    )


def test_the_schema_command_prints_it() -> None:
    result = CliRunner().invoke(main, ["workflows", "schema"])
    assert (result.exit_code, result.output) == (0, SHIPPED.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path",
    [*sorted((PROJECT_ROOT / "workflows").glob("*.yaml")), *sorted(WORKFLOW_FILES.glob("*.yaml"))],
    ids=lambda p: p.name,
)
def test_the_schema_accepts_every_valid_workflow(path: Path) -> None:
    jsonschema.validate(
        yaml.safe_load(path.read_text(encoding="utf-8")),
        json.loads(SHIPPED.read_text(encoding="utf-8")),
    )


def test_the_schema_rejects_an_unknown_key_and_bad_step_parameters() -> None:
    schema = json.loads(SHIPPED.read_text(encoding="utf-8"))
    workflow = yaml.safe_load(
        (PROJECT_ROOT / "workflows" / "demo.yaml").read_text(encoding="utf-8")
    )
    workflow["transitions"][0]["actions"] = [{"apply_demo_bundle": {"days": 0}}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(workflow, schema)
    workflow["transitions"][0] = {"from": "received", "to": "refused", "trigger": "manual"}
    with pytest.raises(jsonschema.ValidationError, match="'label' is a required property"):
        jsonschema.validate(workflow, schema)


def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TICKETBRIDGE_WORKFLOWS_PATH": str(WORKFLOW_FILES),
        "TICKETBRIDGE_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def test_graph_is_mermaid_with_the_trigger_on_each_arrow(tmp_path: Path) -> None:
    result = CliRunner(env=env(tmp_path)).invoke(main, ["workflows", "graph", "review"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    in_review --> approved : approve — manual (admin): Approve" in lines
    assert "    waiting_customer --> in_review : customer_answered — customer reply" in lines
    assert "    waiting_customer --> expired : no_answer — timer: after 7 days" in lines
    assert "    received --> in_review : start_review — automatic" in lines
    assert not (tmp_path / "instance" / "ticketbridge.sqlite3").exists()


def test_simulate_walks_every_trigger_in_a_throwaway_database(tmp_path: Path) -> None:
    data = tmp_path / "form.json"
    data.write_text(json.dumps({**CUSTOMER, "reason": "a"}), encoding="utf-8")
    events = [
        'manual:ask_customer:{"question": "Which server?"}',
        "reply",
        'manual:ask_customer:{"question": "Still there?"}',
        "timer:no_answer",
    ]
    result = CliRunner(env=env(tmp_path)).invoke(
        main,
        [
            "workflows",
            "simulate",
            "review",
            "--data",
            str(data),
            *[a for e in events for a in ("--event", e)],
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in (
        "transition start_review (automatic, by system): received → in_review",
        "transition ask_customer (manual, by simulated staff): in_review → waiting_customer",
        "      field question: Which server?",
        "timer armed: no_answer due",
        "transition customer_answered (customer_reply, by customer:ops@acme.example): "
        "waiting_customer → in_review",
        "transition no_answer (timer, by timer): waiting_customer → expired",
        "state: expired (waiting on nobody, outcome cancelled)",
    ):
        assert expected in out, out
    assert not (tmp_path / "instance" / "ticketbridge.sqlite3").exists()
    assert not (tmp_path / "instance" / "mail-outbox").exists()


def test_simulate_reports_a_refused_event_and_bad_event_syntax(tmp_path: Path) -> None:
    data = tmp_path / "form.json"
    data.write_text(json.dumps({**CUSTOMER, "reason": "a"}), encoding="utf-8")
    runner = CliRunner(env=env(tmp_path))
    refused = runner.invoke(
        main, ["workflows", "simulate", "review", "--data", str(data), "--event", "manual:approve"]
    )
    assert "refused: comment: Comment is required" in refused.output
    bad = runner.invoke(
        main, ["workflows", "simulate", "review", "--data", str(data), "--event", "later"]
    )
    assert bad.exit_code == 1 and "write reply, timer:NAME, manual:NAME" in bad.output
