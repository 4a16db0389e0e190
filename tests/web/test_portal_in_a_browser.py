"""Every page of the portal in a real Chromium: no axe-core violation, blank or refused; and a
customer finds, fills and sends a request from the menu without any script of ours."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.fixtures.browser import RunningService, axe_violations

pytestmark = pytest.mark.browser
STATIC_PAGES = ("/", "/requests", "/conditions", "/license-agreement", "/support")


def request_types(service: RunningService) -> list[str]:
    """Every request type in force, as the API's OpenAPI document lists them."""
    with urllib.request.urlopen(f"{service.url}/api/v1/openapi.json") as answer:
        paths = json.load(answer)["paths"]
    prefix = "/api/v1/requests/"  # the same document describes the staff API beside them
    return sorted(path.removeprefix(prefix) for path in paths if path.startswith(prefix))


def assert_accessible(browser: Any, axe_source: str) -> None:
    violations = axe_violations(browser, axe_source)
    assert violations == [], f"{browser.current_url}: {json.dumps(violations, indent=1)}"


def send(browser: Any) -> None:
    """Click the page's button and wait for the page it leads to.

    While the old page is being replaced, chromedriver may answer the staleness probe with
    "Node with given id does not belong to the document" instead of a stale-element error (seen
    once in CI): that answer is retried, and the next probe reports the button stale."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    button = browser.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    button.click()
    WebDriverWait(browser, 20, ignored_exceptions=(WebDriverException,)).until(
        expected_conditions.staleness_of(button)
    )


def test_every_page_and_every_request_form_passes_axe(
    embedded_service: RunningService, browser: Any, axe_source: str
) -> None:
    from selenium.webdriver.common.by import By

    forms = request_types(embedded_service)
    assert {"demo", "general"} <= set(forms)
    questions = [
        link.get_attribute("href")
        for link in (browser.get(f"{embedded_service.url}/requests") or browser).find_elements(
            By.CSS_SELECTOR, "ul.request-types a"
        )
    ]
    pages = [*STATIC_PAGES, *(f"/requests/{name}" for name in forms)]
    for address in [f"{embedded_service.url}{page}" for page in pages] + questions:
        browser.get(address)
        assert_accessible(browser, axe_source)
    for name in forms:
        browser.get(f"{embedded_service.url}/requests/{name}")
        send(browser)
        assert browser.find_elements(By.CSS_SELECTOR, ".error-summary"), name
        assert_accessible(browser, axe_source)


def test_a_customer_goes_from_the_menu_to_a_sent_demo_request(
    embedded_service: RunningService, browser: Any, axe_source: str
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{embedded_service.url}/requests")
    browser.find_element(By.LINK_TEXT, "Request new activation").click()
    assert (
        "Are you requesting a 30-day free demo?" in browser.find_element(By.TAG_NAME, "legend").text
    )
    browser.find_element(By.CSS_SELECTOR, "input[name=answer][value=yes]").click()
    send(browser)
    assert browser.current_url == f"{embedded_service.url}/requests/demo"

    browser.find_element(By.NAME, "token").send_keys("SRV-axe-demo-0001")
    browser.find_element(By.NAME, "customer_name").send_keys("Axe Customer")
    browser.find_element(By.NAME, "customer_email").send_keys("axe@acme.example")
    conditions = browser.find_element(By.ID, "field-accept_conditions")
    links = {a.text: a.get_attribute("href") for a in conditions.find_elements(By.TAG_NAME, "a")}
    assert links == {
        "conditions": f"{embedded_service.url}/conditions",
        "License Agreement": f"{embedded_service.url}/license-agreement",
    }
    browser.find_element(By.CSS_SELECTOR, "label[for=accept_conditions]").click()
    send(browser)
    assert browser.current_url.startswith(f"{embedded_service.url}/t/")
    assert "Closed: completed" in browser.find_element(By.CSS_SELECTOR, "dl.status").text
    assert_accessible(browser, axe_source)
