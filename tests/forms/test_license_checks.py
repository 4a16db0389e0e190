"""Forms cross-check the license registry before anything is created: R2 (a new activation only
while the token is not active; a demo may become a plan), changes need an active token, R10 (an
add cannot lower a total, a remove cannot raise one, by key or alias), R7 and R8 on the license
a request would leave, R14 (a re-activation names a known token). The refusal is in the
customer's words at the field; nothing is created."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.forms.test_one_validator import COMMON, HERE
from tests.foundation.helpers import submit
from tests.licenses.helpers import PAID, add_license
from ticketbridge.app import create_app
from ticketbridge.licenses.models import License, LicenseState
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket

AT = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
ACTIVE, TRIAL, DEACTIVATED, WITH_AI, UNKNOWN = (
    "SRV-active-0001",
    "SRV-trial-0002",
    "SRV-deactivated-0003",
    "SRV-with-ai-0005",
    "SRV-unknown-0004",
)
STATE_WORDS = "a new activation is only possible while the token is not active yet"
NOT_ACTIVE = "this request changes an active license"
R8 = "AI Agent Assistants can only be enabled together with AI Assistants"
CASES: list[tuple[str, str, str, dict[str, Any], dict[str, str] | None]] = [
    ("R2 a new token gets a plan", "newplan", UNKNOWN, {"agents": "5"}, None),
    ("R2 a demo becomes a plan", "newplan", TRIAL, {"agents": "5"}, None),
    ("R2 not while active", "newplan", ACTIVE, {"agents": "5"}, {"token": STATE_WORDS}),
    (
        "R2 not once deactivated",
        "newplan",
        DEACTIVATED,
        {"agents": "5"},
        {"token": "deactivated"},
    ),
    (
        "R7 five agents on a plan",
        "newplan",
        UNKNOWN,
        {"agents": "3"},
        {"agents": "Concurrent agents: a paid plan needs at least 5, not 3"},
    ),
    (
        "R8 on a plan",
        "newplan",
        UNKNOWN,
        {"agents": "5", "add_ons": "ai_agent_assistants"},
        {"add_ons": R8},
    ),
    (
        "R8 both on a plan",
        "newplan",
        UNKNOWN,
        {"agents": "5", "add_ons": ["ai_assistants", "ai_agent_assistants"]},
        None,
    ),
    ("a change needs a license", "change", UNKNOWN, {"agents": "8"}, {"token": NOT_ACTIVE}),
    ("a change needs it active", "change", TRIAL, {"agents": "8"}, {"token": "30-day demo"}),
    ("R10 an add raises", "change", ACTIVE, {"agents": "8", "pbx_extensions": "3"}, None),
    (
        "R10 an add cannot lower",
        "change",
        ACTIVE,
        {"agents": "4"},
        {"agents": "An add request cannot lower agents from 5 to 4"},
    ),
    (
        "R10 by alias",
        "lower",
        ACTIVE,
        {"pbx_extensions": "2"},
        {"pbx_extensions": "A remove request cannot raise telephones from 0 to 2"},
    ),
    ("R8 on an add", "change", ACTIVE, {"add_ons": "ai_agent_assistants"}, {"add_ons": R8}),
    ("R10 a remove lowers", "lower", WITH_AI, {"add_ons": ["ai_agent_assistants"]}, None),
    (
        "R10 a remove cannot raise",
        "lower",
        ACTIVE,
        {"agents": "6"},
        {"agents": "A remove request cannot raise agents from 5 to 6"},
    ),
    (
        "R7 a remove keeps five agents",
        "lower",
        ACTIVE,
        {"agents": "4"},
        {"agents": "a paid plan needs at least 5, not 4"},
    ),
    ("R8 on a remove", "lower", WITH_AI, {"add_ons": "ai_assistants"}, {"add_ons": R8}),
    ("R14 a known token", "regrace", DEACTIVATED, {}, None),
    ("R14 an unknown token", "regrace", UNKNOWN, {}, {"token": "We have no license for this"}),
]


@pytest.fixture
def registry(make_runtime: Any, db_url: str) -> Runtime:
    runtime = make_runtime(database_url=db_url, workflows_path=str(HERE / "workflows"))
    with runtime.db.transaction() as session:
        add_license(session, runtime, ACTIVE, at=AT)
        add_license(
            session,
            runtime,
            WITH_AI,
            at=AT,
            entitlements={**PAID, "ai_assistants": 1, "ai_agent_assistants": 1},
        )
        trial = runtime.catalogue.demo_bundle()
        add_license(session, runtime, TRIAL, at=AT, entitlements=trial, state=LicenseState.TRIAL)
        add_license(session, runtime, DEACTIVATED, at=AT, state=LicenseState.DEACTIVATED)
    return runtime


def counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Ticket)) or 0,
            session.scalar(select(func.count()).select_from(License)) or 0,
        )


@pytest.mark.parametrize(
    ("request_type", "token", "answers", "refused"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_the_form_checks_the_registry_before_creating_anything(
    registry: Runtime,
    request_type: str,
    token: str,
    answers: dict[str, Any],
    refused: dict[str, str] | None,
) -> None:
    client = create_app(runtime=registry).test_client()
    before = counts(registry)
    response = submit(client, f"/requests/{request_type}", {**COMMON, "token": token, **answers})
    if refused is None:
        assert response.status_code == 303, response.text
        return
    assert response.status_code == 422
    page = response.text.replace("&#39;", "'").replace("&amp;", "&")
    for field, words in refused.items():
        at_field = page.split(f'id="field-{field}"', 1)[1].split('<div class="field', 1)[0]
        assert words in at_field, at_field
    messages = " ".join(re.findall(r'<p class="error"[^>]*>([^<]*)</p>', page))
    assert messages and not re.search(r"\bR\d{1,2}\b", messages), messages
    assert counts(registry) == before


def test_the_api_refuses_the_same_way(registry: Runtime) -> None:
    client = create_app(runtime=registry).test_client()
    response = client.post("/api/v1/requests/change", json={**COMMON, "token": ACTIVE, "agents": 4})
    assert response.status_code == 422
    assert response.json["errors"] == {
        "agents": [
            "An add request cannot lower agents from 5 to 4; give the new total, or send a "
            "remove request to lower it."
        ]
    }
