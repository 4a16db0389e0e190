"""The staff app driven in headless Chromium, page by page, as the team would use it; every page
passes axe-core, fits a 390 px phone, and leaves its screenshot in docs/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.backends import wait_until
from tests.foundation.helpers import kept_emails
from tests.staff.browser import StaffServer, check_page
from tests.staff.conftest import APPROVAL_FORM, PASSWORD

PLAN_FORM: dict[str, str | list[str]] = {
    "token": "SRV-plan-0001",
    "customer_name": "Acme Contact Center",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
    "plan": "omnichannel",
    "agents": "10",
    "billing_frequency": "monthly",
    "support_plan": "platinum",
    "white_label": "yes",
    "add_ons": ["quality_analysis"],
    "plugins": ["botify"],
}

pytestmark = pytest.mark.browser


def _by() -> Any:
    from selenium.webdriver.common.by import By

    return By


def sign_in(browser: Any, server: StaffServer, email: str, *, check: bool = False) -> None:
    By = _by()
    browser.get(f"{server.url}/staff/")
    assert "/staff/sign-in" in browser.current_url
    if check:
        check_page(browser, "sign-in")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    wait_until(lambda: browser.current_url.rstrip("/").endswith("/staff"), what="the queue")


def file_request(
    browser: Any, server: StaffServer, request_type: str, form: dict[str, str | list[str]]
) -> str:
    """A customer fills a request form (text, lists, yes/no and check boxes as they are
    clicked); returns the reference shown on their ticket page."""
    By = _by()
    from selenium.webdriver.support.ui import Select

    browser.get(f"{server.url}/requests/{request_type}")
    for name, values in form.items():
        for value in [values] if isinstance(values, str) else values:
            element = browser.find_element(By.NAME, name)
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            elif element.get_attribute("type") in ("checkbox", "radio"):
                browser.find_element(
                    By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']"
                ).click()
            else:
                element.send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    wait_until(lambda: "/t/" in browser.current_url, what="the customer's ticket page")
    return re.search(r"LIC-\d{6}", browser.find_element(By.TAG_NAME, "h1").text).group(0)


def test_sign_in_open_from_the_queue_approve_after_the_preview_and_the_email_leaves(
    staff_server: StaffServer, browsers: Any
) -> None:
    """A real plan request (workflows/plan.yaml): the plan applies at once (R5); its add-ons,
    plugins, support plan and white label wait for the administrative check (R6), which an
    admin approves after reading its change preview; the outcome email leaves."""
    By = _by()
    customer, admin = browsers(), browsers()
    reference = file_request(customer, staff_server, "plan", PLAN_FORM)

    sign_in(admin, staff_server, "ada@team.example", check=True)
    check_page(admin, "queue")
    row = admin.find_element(By.CSS_SELECTOR, f"tr[data-ticket='{reference}']")
    assert "waiting on staff" in row.text and "left" in row.text
    body = admin.find_element(By.TAG_NAME, "body")
    body.send_keys("j")
    body.send_keys("o")
    wait_until(lambda: reference in admin.current_url, what="the ticket page, opened with j, o")
    assert "administrative check" in admin.find_element(By.CSS_SELECTOR, "dl.facts").text
    check_page(admin, "ticket")

    admin.find_element(By.LINK_TEXT, "Checked — apply as requested").click()
    preview = admin.find_element(By.CSS_SELECTOR, "section.preview").text
    assert "What this will change on license SRV-plan-0001" in preview
    for item in ("botify", "quality_analysis", "white_label"):
        assert re.search(rf"^{item} 0 1 \d+ \w+ \d{{4}}$", preview, re.MULTILINE), preview
    assert "New license key: no" in preview
    invoice = r"on the \d+ \w+ \d{4} invoice"
    assert re.search(rf"^botify 1 pro-rata from \d+ \w+ to .*, {invoice}", preview, re.M), preview
    assert re.search(rf"^botify 1 in advance for .*, {invoice}", preview, re.MULTILINE), preview
    check_page(admin, "change-preview")
    admin.find_element(By.ID, "confirm").click()

    wait_until(lambda: "Done: Checked" in admin.page_source, what="the action's confirmation")
    assert "completed" in admin.find_element(By.CSS_SELECTOR, "dl.facts").text
    applied = f"[{reference}] Your request {reference} is applied (SRV-plan-0001)"

    def outcome_sent() -> bool:
        admin.refresh()
        return any(
            applied in article.text and "sent" in article.text
            for article in admin.find_elements(By.CSS_SELECTOR, "article.message-out")
        )

    wait_until(outcome_sent, what="the outcome email marked sent in the outbox")
    check_page(admin, "ticket-approved")
    subjects = [e["Subject"] for e in kept_emails(staff_server.instance / "mail-outbox")]
    assert applied in subjects, subjects

    admin.get(f"{staff_server.url}/staff/licenses/SRV-plan-0001")
    licence = admin.find_element(By.TAG_NAME, "main").text
    assert "agents" in licence and "Ada Admin" in licence
    check_page(admin, "license")


def test_two_agents_on_one_ticket_the_second_is_told(
    staff_server: StaffServer, browsers: Any
) -> None:
    By = _by()
    customer, ann, bob = browsers(), browsers(), browsers()
    reference = file_request(
        customer,
        staff_server,
        "general",
        {
            "customer_name": "Dora Customer",
            "customer_email": "dora@cust.example",
            "accept_conditions": "on",
            "description": "Two agents will look at this.",
        },
    )
    sign_in(ann, staff_server, "ann@team.example")
    sign_in(bob, staff_server, "bob@team.example")
    ann.get(f"{staff_server.url}/staff/tickets/{reference}")
    bob.get(f"{staff_server.url}/staff/tickets/{reference}")
    assert "Also open by Ann Agent" in bob.find_element(By.ID, "presence").text

    ann.find_element(By.ID, "note").send_keys("I am on it.")
    ann.find_element(By.XPATH, "//button[text()='Add note']").click()
    wait_until(lambda: "Note added." in ann.page_source, what="Ann's note")

    bob.find_element(By.ID, "note").send_keys("Me too.")
    bob.find_element(By.XPATH, "//button[text()='Add note']").click()
    message = bob.find_element(By.CSS_SELECTOR, ".error-message").text
    assert "changed after you opened it" in message and "Ann Agent" in message
    assert "Nothing was applied" in message
    check_page(bob, "stale-page")
    bob.get(f"{staff_server.url}/staff/tickets/{reference}")
    timeline = bob.find_element(By.CSS_SELECTOR, "ol.timeline").text
    assert timeline.count("Internal note by") == 1


def test_the_customer_answers_in_a_fresh_browser_with_an_attachment(
    staff_server: StaffServer, browsers: Any, tmp_path: Path
) -> None:
    By = _by()
    customer, ann = browsers(), browsers()
    form = {**APPROVAL_FORM, "token": "SRV-approval-0002", "customer_email": "fay@cust.example"}
    reference = file_request(customer, staff_server, "approval", form)
    sign_in(ann, staff_server, "ann@team.example")
    ann.get(f"{staff_server.url}/staff/tickets/{reference}")
    ann.find_element(By.LINK_TEXT, "Ask for a log file").click()
    check_page(ann, "action-confirm")
    ann.find_element(By.ID, "confirm").click()
    wait_until(lambda: "Done: Ask for a log file" in ann.page_source, what="the question")
    link = ann.find_element(By.LINK_TEXT, "customer's page").get_attribute("href")
    asks = ann.find_element(By.ID, "asks").text
    assert asks == "Log file, This log comes from the licensed server"

    fresh = browsers()
    fresh.get(link)
    assert (
        "waiting for your answer: The team asked you for a log file."
        in fresh.find_element(By.ID, "asked").text
    )
    assert "Internal note" not in fresh.page_source and "Ann Agent" not in fresh.page_source
    fresh.execute_script("document.getElementById('asked').scrollIntoView()")  # the screenshot
    check_page(fresh, "customer-page")
    log = tmp_path / "server.log"
    log.write_text("2026-11-29 license check ok\n")
    asked = fresh.find_element(By.ID, "asked-fields").text
    assert "Log file" in asked and "This log comes from the licensed server" in asked
    fresh.find_element(By.ID, "message").send_keys("Here is the log file.")
    fresh.find_element(By.ID, "log_file").send_keys(str(log))
    fresh.find_element(By.ID, "licensed_server").click()
    fresh.find_element(By.CSS_SELECTOR, "form.reply button[type=submit]").click()
    wait_until(lambda: "was added to the ticket" in fresh.page_source, what="the reply's receipt")
    assert (
        "You answered on this page: Log file: server.log (28 bytes); This log comes from the "
        "licensed server: Yes." in fresh.page_source
    )
    check_page(fresh, "customer-page-answered")

    ann.get(f"{staff_server.url}/staff/tickets/{reference}")
    assert "admin check" in ann.find_element(By.CSS_SELECTOR, "dl.facts").text
    download = ann.find_element(By.LINK_TEXT, "server.log").get_attribute("href")
    assert "/attachments/" in download


def test_an_admin_breaks_a_workflow_then_fixes_replays_and_publishes(
    staff_server: StaffServer, browsers: Any
) -> None:
    By = _by()
    customer, admin = browsers(), browsers()
    reference = file_request(
        customer,
        staff_server,
        "general",
        {
            "customer_name": "Hal Customer",
            "customer_email": "hal@cust.example",
            "accept_conditions": "on",
            "description": "Close me, please.",
        },
    )
    still_open = file_request(
        customer,
        staff_server,
        "general",
        {
            "customer_name": "Ida Customer",
            "customer_email": "ida@cust.example",
            "accept_conditions": "on",
            "description": "Leave me open; I move to the new version.",
        },
    )
    sign_in(admin, staff_server, "ada@team.example")
    admin.get(f"{staff_server.url}/staff/tickets/{reference}")
    admin.find_element(By.LINK_TEXT, "Close").click()
    admin.find_element(By.ID, "confirm").click()
    wait_until(lambda: "Done: Close" in admin.page_source, what="the ticket closed")

    admin.get(f"{staff_server.url}/staff/admin/")
    check_page(admin, "admin")
    admin.find_element(By.LINK_TEXT, "general").click()
    assert "<svg" in admin.page_source
    check_page(admin, "workflow")
    admin.find_element(By.LINK_TEXT, "Edit the YAML").click()
    source = admin.find_element(By.ID, "source")
    valid = source.get_attribute("value")
    lines = valid.splitlines()
    broken_line = next(i for i, line in enumerate(lines, 1) if line.startswith("initial:"))
    broken = valid.replace("initial: received", "initial: nowhere")
    admin.execute_script("arguments[0].value = arguments[1]", source, broken)
    admin.find_element(By.ID, "check").click()
    problems = admin.find_element(By.CSS_SELECTOR, ".problems").text
    assert f"line {broken_line}, column" in problems and "nowhere" in problems
    marked = admin.find_element(By.ID, f"line-{broken_line}")
    assert "bad-line" in marked.get_attribute("class")
    check_page(admin, "workflow-error")

    fixed = valid.replace(
        "  resolved:\n    outcome: completed", "  resolved:\n    outcome: rejected"
    )
    admin.execute_script(
        "arguments[0].value = arguments[1]", admin.find_element(By.ID, "source"), fixed
    )
    admin.find_element(By.ID, "check").click()
    wait_until(
        lambda: 'data-status="finished"' in admin.page_source,
        timeout=120,
        what="the replay, run in the background, to finish (its page refreshes itself)",
    )
    summary = admin.find_element(By.ID, "replay-summary").text
    assert re.fullmatch(r"[1-9]\d* would end differently", summary), summary
    differences = admin.find_element(By.ID, "replay-differences").text
    assert reference in differences and "resolved (rejected)" in differences
    check_page(admin, "workflow-replay")
    admin.find_element(By.ID, "publish").click()
    wait_until(lambda: "Published general version" in admin.page_source, what="the publish")
    assert "Published general version" in admin.page_source

    admin.find_element(By.LINK_TEXT, "Move open tickets to this version").click()
    admin.find_element(By.ID, "preview-migration").click()
    wait_until(
        lambda: 'data-status="finished"' in admin.page_source,
        timeout=120,
        what="the migration's preview, run in the background",
    )
    moves = admin.find_element(By.ID, "moves").text
    assert f"{still_open}: received → received" in moves
    assert "nothing is written yet" in admin.page_source
    check_page(admin, "migration-preview")
    admin.find_element(By.ID, "confirm-migration").click()
    wait_until(
        lambda: 'data-status="finished"' in admin.page_source and "Moved " in admin.page_source,
        timeout=120,
        what="the move, applied in the background",
    )
    admin.get(f"{staff_server.url}/staff/tickets/{still_open}")
    timeline = admin.find_element(By.CSS_SELECTOR, "ol.timeline").text
    assert "Moved to workflow version" in timeline and "Ada Admin" in timeline
