"""The customer's own pages in a real Chromium under the security headers (strict CSP, no
inline script): the open ticket with its reply form, a refused message, and the error pages
pass axe-core, and the reply form works without any script."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.browser import RunningService
from tests.web.test_portal_in_a_browser import assert_accessible, send

pytestmark = pytest.mark.browser


def test_an_open_ticket_its_reply_form_and_the_error_pages_pass_axe(
    embedded_service: RunningService, browser: Any, axe_source: str
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{embedded_service.url}/requests/general")
    browser.find_element(By.NAME, "customer_name").send_keys("Axe Customer")
    browser.find_element(By.NAME, "customer_email").send_keys("axe-general@acme.example")
    browser.find_element(By.NAME, "description").send_keys("Which plan fits 40 agents?")
    browser.find_element(By.NAME, "accept_conditions").click()
    send(browser)
    assert "/t/" in browser.current_url
    assert_accessible(browser, axe_source)

    send(browser)  # an empty message: refused at the field
    assert "write your message" in browser.find_element(By.ID, "field-message").text
    assert_accessible(browser, axe_source)

    browser.find_element(By.NAME, "message").send_keys("We run 40 agents.")
    send(browser)
    assert "Your message was added to the ticket" in browser.page_source
    assert_accessible(browser, axe_source)

    for path in ("/t/MQ.forged", "/no/such/page"):
        browser.get(f"{embedded_service.url}{path}")
        assert_accessible(browser, axe_source)
