"""Issue 8 item 5: a submission id is the server's, bound to its form and to what was sent.

A replay of the same submission answers with its own ticket; a changed answer, another form's
id, a forged or an over-long id never answers with another ticket."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.foundation.helpers import DEMO_FORM, GENERAL_FORM, hidden_fields
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket


def page_fields(client, path: str) -> dict[str, str]:
    return hidden_fields(client.get(path).text)


def stored(runtime: Runtime) -> list[tuple[int, str | None]]:
    with runtime.db.transaction() as session:
        return list(session.execute(select(Ticket.id, Ticket.submission_id).order_by(Ticket.id)))


def test_a_replay_answers_with_its_own_ticket_and_the_stored_key_is_not_the_posted_id(
    client, runtime
) -> None:
    form = {**page_fields(client, "/requests/demo"), **DEMO_FORM}
    first = client.post("/requests/demo", data=form)
    again = client.post("/requests/demo", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    [(_, key)] = stored(runtime)
    assert key and key != form["submission_id"]


def test_back_then_a_changed_answer_is_a_new_ticket_not_the_first_one(client, runtime) -> None:
    form = {**page_fields(client, "/requests/demo"), **DEMO_FORM}
    first = client.post("/requests/demo", data=form)
    changed = client.post("/requests/demo", data={**form, "token": "SRV-other-0002"})
    assert changed.status_code == 303
    assert changed.headers["Location"] != first.headers["Location"]
    assert len(stored(runtime)) == 2


def test_another_forms_id_never_answers_with_that_forms_ticket(client, runtime) -> None:
    general_id = page_fields(client, "/requests/general")["submission_id"]
    victim = client.post(
        "/requests/general", data={**page_fields(client, "/requests/general"), **GENERAL_FORM}
    )
    replayed_general = {**page_fields(client, "/requests/general"), **GENERAL_FORM}
    replayed_general["submission_id"] = general_id
    client.post("/requests/general", data=replayed_general)
    demo = {**page_fields(client, "/requests/demo"), **DEMO_FORM, "submission_id": general_id}
    answer = client.post("/requests/demo", data=demo)
    assert answer.status_code == 303
    assert answer.headers["Location"] != victim.headers["Location"]
    assert len(stored(runtime)) == 3


def test_posting_a_known_id_or_key_never_answers_with_that_ticket(client, runtime) -> None:
    """The old form looked the posted id up as is: whoever knew it got that ticket's link."""
    victim_form = {**page_fields(client, "/requests/general"), **GENERAL_FORM}
    victim = client.post("/requests/general", data=victim_form)
    [(_, victim_key)] = stored(runtime)
    for known in (victim_form["submission_id"], victim_key):
        attacker = {
            **page_fields(client, "/requests/general"),
            **GENERAL_FORM,
            "submission_id": known,
        }
        attacker["description"] = "Something else"
        answer = client.post("/requests/general", data=attacker)
        assert answer.status_code == 303
        assert answer.headers["Location"] != victim.headers["Location"]


@pytest.mark.parametrize("forged", ["4b1f0c8e9d2a", "x" * 5000, "WyJkZW1vIiwiMSJd.Zm9yZ2Vk", ""])
def test_a_forged_or_over_long_id_is_a_new_ticket_never_a_500(client, runtime, forged) -> None:
    form = {**page_fields(client, "/requests/demo"), **DEMO_FORM, "submission_id": forged}
    assert client.post("/requests/demo", data=form).status_code == 303
    assert len(stored(runtime)) == 1
