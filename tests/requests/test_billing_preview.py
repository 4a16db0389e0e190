"""`ticketbridge billing preview` for a month with an add, a remove by the 20th, a remove after
it and a deactivation, each filed on the real forms (R11, R12): the right lines (table test)."""

from __future__ import annotations

import pytest

from tests.requests.portal import Portal, at
from tests.requests.test_modify import BASIC_PLAN
from tests.requests.test_operator_cli import cli

MONTH = [
    # token, when, request type, form
    ("SRV-ADD-00001", "2026-11-11 10:00", "add", {"reason": "more_agents", "agents": "15"}),
    ("SRV-REM-BEFORE", "2026-11-20 18:00", "remove", {"reason": "fewer_agents", "agents": "6"}),
    ("SRV-REM-AFTER", "2026-11-21 08:00", "remove", {"reason": "fewer_agents", "agents": "6"}),
    ("SRV-DEACT-001", "2026-11-12 10:00", "deactivate", {"reason": "cost"}),
]
# Every license: the plan from 2 November (29 of 30 days pro rata), then its request.
OPENING = [
    "  agents\tpro_rata\t10\t2026-11-02..2026-11-30\t29/30\t290.00",
    "  mobile_agents\tpro_rata\t2\t2026-11-02..2026-11-30\t29/30\t19.33",
    "  telephones\tpro_rata\t4\t2026-11-02..2026-11-30\t29/30\t11.60",
    "  users\tpro_rata\t3\t2026-11-02..2026-11-30\t29/30\t14.50",
    "  webrtc\tpro_rata\t1\t2026-11-02..2026-11-30\t29/30\t0.00",
    "  windows_phonebar\tpro_rata\t1\t2026-11-02..2026-11-30\t29/30\t0.00",
]


def advance(agents: int) -> list[str]:
    return [
        f"  agents\tadvance\t{agents}\t2026-12-01..2026-12-31\t1\t{agents * 30:.2f}",
        "  users\tadvance\t3\t2026-12-01..2026-12-31\t1\t15.00",
        "  telephones\tadvance\t4\t2026-12-01..2026-12-31\t1\t12.00",
        "  mobile_agents\tadvance\t2\t2026-12-01..2026-12-31\t1\t20.00",
        "  webrtc\tadvance\t1\t2026-12-01..2026-12-31\t1\t0.00",
        "  windows_phonebar\tadvance\t1\t2026-12-01..2026-12-31\t1\t0.00",
    ]


EXPECTED = {
    # an increase on the 11th: charged from the 11th (20 of 30 days), December at 15
    "SRV-ADD-00001": (
        "total 932.43",
        OPENING + ["  agents\tpro_rata\t5\t2026-11-11..2026-11-30\t2/3\t100.00"] + advance(15),
    ),
    # a decrease on the 20th: processed at once, credited from the 20th (11 of 30 days)
    "SRV-REM-BEFORE": (
        "total 518.43",
        OPENING + ["  agents\tpro_rata\t-4\t2026-11-20..2026-11-30\t11/30\t-44.00"] + advance(6),
    ),
    # a decrease on the 21st: November stays as billed, December in advance at the new total
    "SRV-REM-AFTER": ("total 562.43", OPENING + advance(6)),
    # a deactivation: billed to the end of November, nothing in advance
    "SRV-DEACT-001": ("total 335.43", OPENING),
}


@pytest.fixture
def november(portal: Portal) -> Portal:
    for token, _, _, _ in MONTH:
        ticket = portal.file("plan", token=token, **BASIC_PLAN)
        portal.act(ticket, "apply_options")
    for token, when, request_type, form in sorted(MONTH, key=lambda m: m[1]):
        portal.move_to(at(when))
        portal.file(request_type, token=token, **form)
    portal.run_timers_until(at("2026-12-01 06:00"))
    return portal


def test_r11_r12_billing_preview_of_a_month_of_changes(november: Portal) -> None:
    result = cli(november, "billing", "preview", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    shown: dict[str, tuple[str, list[str]]] = {}
    for line in result.output.splitlines():
        if not line.startswith("  "):
            token, _, total = line.split("\t")
            shown[token] = (total.split(" EUR")[0], [])
        else:
            shown[token][1].append(line)
    assert set(shown) == set(EXPECTED)
    for token, (total, lines) in EXPECTED.items():
        assert sorted(shown[token][1]) == sorted(lines), token
        assert shown[token][0] == total, token
