"""The real staff app in a real browser: `ticketbridge serve` in a subprocess, headless Chromium
through chromedriver, axe-core injected into every page, a screenshot of each page kept in
docs/screenshots/ for the README."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fixtures.backends import service_missing
from tests.fixtures.browser import AXE_INSTALL, AXE_JS, axe_violations, new_chromium
from ticketbridge.config import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
LAPTOP = (1280, 900)
PHONE = (390, 844)


@dataclass(frozen=True)
class StaffServer:
    url: str
    instance: Path
    workflows: Path
    env: dict[str, str]

    def cli(self, *args: str, stdin: str = "") -> str:
        result = subprocess.run(
            [sys.executable, "-m", "ticketbridge", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


def new_browser() -> Any:
    """Elements are waited for (up to 20 s) rather than looked up once: after a click the next
    page may still be loading on a busy machine."""
    browser = new_chromium(f"--window-size={LAPTOP[0]},{LAPTOP[1]}")
    browser.implicitly_wait(20)
    return browser


def check_page(browser: Any, name: str) -> None:
    """Every page: no axe violation, nothing wider than a 390 px phone, a screenshot kept."""
    if not AXE_JS.is_file():
        service_missing(f"axe-core ({AXE_JS})", AXE_INSTALL)
    violations = axe_violations(browser, AXE_JS.read_text(encoding="utf-8"))
    assert violations == [], (browser.current_url, violations)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    browser.set_window_size(*PHONE)
    try:
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} runs {overflow} px off a {PHONE[0]} px screen"
    finally:
        browser.set_window_size(*LAPTOP)
