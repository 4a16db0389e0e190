"""With JavaScript, a section shown only for some answers is hidden until one of them is chosen;
the condition is the workflow's own `when:`, evaluated by the server for each answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.browser import RunningService, axe_violations, serving
from tests.forms.test_one_validator import HERE
from ticketbridge.forms.fields import Choice, FieldType, FormField
from ticketbridge.forms.visibility import ShownWhen, shown_when
from ticketbridge.position import Position
from ticketbridge.workflow.guards import compile_guard

HERE_POSITION = Position("test", 1, 1)


def field(name: str, kind: FieldType, when: str = "", **options: Any) -> FormField:
    condition = compile_guard(when) if when else None
    return FormField(name, name, kind, HERE_POSITION, when=condition, **options)


REASON = field(
    "reason", FieldType.CHOICE, choices=(Choice("a", "A"), Choice("b", "B"), Choice("c", "C"))
)


@pytest.mark.parametrize(
    ("dependent", "expected"),
    [
        (field("x", FieldType.TEXT, 'form.reason == "c"'), ShownWhen("reason", ("c",))),
        (field("x", FieldType.TEXT, 'form.reason != "a"'), ShownWhen("reason", ("", "b", "c"))),
        (field("x", FieldType.TEXT, 'form.reason in ["a", "b"]'), ShownWhen("reason", ("a", "b"))),
        (field("x", FieldType.TEXT, "form.urgent"), ShownWhen("urgent", ("yes",))),
        (field("x", FieldType.TEXT, '"b" in form.lists'), ShownWhen("lists", ("b",))),
        (field("x", FieldType.TEXT, 'form.reason == "c" && form.urgent'), None),
        (field("x", FieldType.TEXT), None),
    ],
)
def test_which_answers_show_a_field(dependent: FormField, expected: ShownWhen | None) -> None:
    lists = field("lists", FieldType.MULTICHOICE, choices=REASON.choices)
    fields = (REASON, field("urgent", FieldType.YESNO), lists, dependent)
    assert shown_when(fields, dependent) == expected


@pytest.fixture(scope="module")
def table_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    instance = tmp_path_factory.mktemp("table") / "instance"
    with serving(instance, workflows_path=str(HERE / "workflows")) as service:
        yield service


def test_the_new_token_section_appears_with_its_reason(
    table_service: RunningService, browser: Any, axe_source: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{table_service.url}/requests/table")
    section = browser.find_element(By.CSS_SELECTOR, "fieldset.section[data-shown-when=reason]")
    assert section.find_element(By.TAG_NAME, "legend").get_attribute("textContent") == "New token"
    assert not section.is_displayed()
    Select(browser.find_element(By.NAME, "reason")).select_by_visible_text("New token detected")
    assert section.is_displayed()
    assert axe_violations(browser, axe_source) == []
    Select(browser.find_element(By.NAME, "reason")).select_by_visible_text("Expired license")
    assert not section.is_displayed()

    ai = browser.find_element(By.CSS_SELECTOR, "fieldset.section[data-shown-when=add_ons]")
    assert not ai.is_displayed()
    ticked = browser.find_element(By.CSS_SELECTOR, "input[name=add_ons][value=ai_assistants]")
    ticked.click()
    assert ai.is_displayed()
    ticked.click()
    assert not ai.is_displayed()
