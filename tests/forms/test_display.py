"""The ticket page shows the request in the form's words: labels, choice titles, Yes/No."""

from __future__ import annotations

from typing import Any

from tests.forms.test_one_validator import ANSWERED, COMMON, HERE
from tests.foundation.helpers import local_path, submit, visible_text
from ticketbridge.app import create_app


def test_the_ticket_page_shows_each_answer_as_the_form_offered_it(
    make_runtime: Any, db_url: str
) -> None:
    runtime = make_runtime(database_url=db_url, workflows_path=str(HERE / "workflows"))
    client = create_app(runtime=runtime).test_client()
    sent = submit(client, "/requests/table", {**COMMON, **ANSWERED})
    assert sent.status_code == 303, sent.text
    page = visible_text(client.get(local_path(sent.headers["Location"])).text)
    for shown in (
        "Plan XCALLY Voice",
        "Add ons AI Assistants, Quality Analysis",
        "White label No",
        "Urgent Yes",
        "Reason New token detected",
        "New token SRV-new-0002",
        "Company Acme Contact Center",
    ):
        assert shown in page, page
    assert "ai_assistants" not in page and "accept_conditions" not in page.lower()
