"""`ticketbridge serve` with nothing configured: the embedded default a new user starts first.

Runs the real command in a subprocess (gunicorn, SQLite in a fresh instance folder, in-process
jobs, mail kept as .eml files) and drives it over HTTP and in a real Chromium.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.fixtures.backends import wait_until
from tests.fixtures.browser import RunningService
from tests.foundation.helpers import (
    DEMO_FORM,
    LINK,
    hidden_fields,
    kept_emails,
    text_part,
    visible_text,
)


def test_serve_with_nothing_configured_runs_the_demo_request(
    embedded_service: RunningService,
) -> None:
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    form_page = browser.open(f"{embedded_service.url}/requests/demo").read().decode()
    body = urllib.parse.urlencode(
        {**hidden_fields(form_page), **DEMO_FORM, "token": "SRV-embedded-0001"}
    ).encode()
    ticket_page = browser.open(f"{embedded_service.url}/requests/demo", data=body)
    assert ticket_page.url.startswith(f"{embedded_service.url}/t/")
    assert "Closed: completed" in visible_text(ticket_page.read().decode())

    emails = wait_until(
        lambda: kept_emails(embedded_service.instance / "mail-outbox"),
        what="the outcome email in the mail folder",
    )
    link = LINK.search(text_part(emails[-1])).group(1)
    assert link == ticket_page.url
    assert (embedded_service.instance / "ticketbridge.sqlite3").exists()


def test_a_tampered_link_is_404_over_http(embedded_service: RunningService) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{embedded_service.url}/t/MQ.forged-signature")
    assert caught.value.code == 404
    assert "There is no such page" in caught.value.read().decode()


def test_browser_fills_the_form_sees_field_errors_then_the_ticket(
    embedded_service: RunningService, browser
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.get(f"{embedded_service.url}/requests/demo")
    browser.find_element(By.NAME, "token").send_keys("SRV-browser-0001")
    browser.find_element(By.NAME, "customer_name").send_keys("Browser Customer")
    browser.find_element(By.NAME, "customer_email").send_keys("not-an-address")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    email_field = wait.until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, "#field-customer_email.has-error")
        )
    )
    assert "not a valid email address" in email_field.text
    assert "must be accepted" in browser.find_element(By.ID, "field-accept_conditions").text
    assert browser.find_element(By.NAME, "token").get_attribute("value") == "SRV-browser-0001"

    address = browser.find_element(By.NAME, "customer_email")
    address.clear()
    address.send_keys("browser@acme.example")
    browser.find_element(By.NAME, "accept_conditions").click()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    wait.until(expected_conditions.url_contains("/t/"))
    assert browser.current_url.startswith(f"{embedded_service.url}/t/")
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert re.fullmatch(r"Ticket LIC-\d{6}", heading)
    assert "Closed: completed" in browser.find_element(By.CSS_SELECTOR, "dl.status").text


def test_the_access_log_never_holds_a_whole_ticket_link(embedded_service: RunningService) -> None:
    """gunicorn's access log is written by the real server; capability links appear cut."""
    [email, *_] = kept_emails(embedded_service.instance / "mail-outbox")
    link = LINK.search(text_part(email)).group(1)
    signature = link.rsplit(".", 1)[1]
    path = urllib.parse.urlsplit(link).path
    for spelling in (path, path.replace("/t/", "/%74/"), f"{path}?sent=1"):
        urllib.request.urlopen(f"{embedded_service.url}{spelling}").read()
    log = embedded_service.instance.parent / "serve.log"
    wait_until(lambda: log.read_text().count(".<redacted>") >= 3, what="the access log lines")
    assert signature not in log.read_text()
