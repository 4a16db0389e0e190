"""Issue 8 item 9 on the usage API: the server is authenticated before its body is read, and a
hostile body (deep nesting, NUL) is a 400 naming what is accepted, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.licenses.helpers import add_license, issue
from ticketbridge.clock import utcnow
from ticketbridge.licenses.models import UsageReport
from ticketbridge.runtime import Runtime

URL = "/api/v1/licenses/SRV-A/usage"


@pytest.fixture
def secret(runtime: Runtime) -> str:
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-A", at=utcnow())
        return issue(session, runtime, license, now=utcnow()).sync_secret


def post(client, secret: str | None, body: bytes):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 2000 + b"]" * 2000,
        b'{"concurrent_agents": 1, "webphone_sessions": 1, "ai_conversations": '
        + b'{"a": ' * 40
        + b"1"
        + b"}" * 40
        + b"}",
    ],
    ids=["nested-arrays", "nested-objects"],
)
def test_deeply_nested_json_is_401_before_auth_and_400_after(client, secret, body) -> None:
    assert post(client, None, body).status_code == 401
    answer = post(client, secret, body)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "body"


def test_a_nul_in_a_json_string_is_a_400(client, runtime, secret) -> None:
    body = b'{"concurrent_agents": 1, "webphone_sessions": 1, "ai_conversations": {"a\\u0000": 1}}'
    answer = post(client, secret, body)
    assert answer.status_code == 400 and "NUL" in answer.get_json()["error"]["message"]
    with runtime.db.transaction() as session:
        assert session.scalars(select(UsageReport)).first() is None


def test_an_unauthenticated_body_is_never_read(client, secret) -> None:
    """A wrong secret with an oversized body is told 401, not 413: nothing was read."""
    assert post(client, "wrong", b"{" + b" " * 10_000 + b"}").status_code == 401


def test_an_over_long_token_is_a_401_not_a_500(client) -> None:
    answer = client.get("/api/v1/licenses/" + "A" * 5000, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401
