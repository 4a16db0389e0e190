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
from tests.fixtures.served import new_chromium
from ticketbridge.config import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
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


def axe_violations(browser: Any) -> list[str]:
    """axe-core's violations on the current page, one line each (empty when it passes)."""
    if not AXE.is_file():
        service_missing("axe-core", "npm install --no-save axe-core@4.14.1")
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map("
        "v => v.id + ': ' + v.help + ' — ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
    )
    return list(result)


def check_page(browser: Any, name: str) -> None:
    """Every page: no axe violation, nothing wider than a 390 px phone, a screenshot kept."""
    assert axe_violations(browser) == [], browser.current_url
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
