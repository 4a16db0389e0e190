"""The shipped catalogue holds what DOMAIN.md names, and a broken one is reported by line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.licenses.conftest import CATALOGUE_PATH
from ticketbridge.errors import ConfigError
from ticketbridge.licenses.catalogue import Catalogue, ItemKind, load_catalogue


def keys(catalogue: Catalogue, kind: ItemKind) -> set[str]:
    return {item.key for item in catalogue.items_of(kind)}


def test_catalogue_has_every_item_of_the_domain(catalogue: Catalogue) -> None:
    assert keys(catalogue, ItemKind.COUNT) == {
        "agents",
        "users",
        "telephones",
        "mobile_agents",
        "admins",
        "webphone_sessions",
        "webdialer_capacity",
    }
    assert keys(catalogue, ItemKind.FEATURE) == {
        "webrtc",
        "windows_phonebar",
        "cdr_survey",
        "white_label",
    }
    assert set(catalogue.support_plans) == {"silver", "platinum"}
    assert {f: catalogue.billing_frequencies[f].months for f in catalogue.billing_frequencies} == {
        "monthly": 1,
        "annual": 12,
    }
    assert len(catalogue.plans) == 3 and all(plan.channels for plan in catalogue.plans.values())


def test_r3_demo_bundle(catalogue: Catalogue) -> None:
    bundle = catalogue.demo_bundle()
    assert catalogue.demo_days == 30
    assert {k: bundle[k] for k in ("agents", "admins", "telephones", "mobile_agents")} == {
        "agents": 3,
        "admins": 1,
        "telephones": 1,
        "mobile_agents": 1,
    }
    assert bundle["webrtc"] == bundle["windows_phonebar"] == 1
    assert all(bundle[key] == 1 for key in keys(catalogue, ItemKind.ADD_ON))
    bundle["agents"] = 99
    assert catalogue.demo_bundle()["agents"] == 3  # callers get a copy


def test_r7_agents_are_concurrent_mobile_agents_named_one_admin_included(
    catalogue: Catalogue,
) -> None:
    assert catalogue.item("agents").counted == "concurrent"
    assert catalogue.item("agents").paid_minimum == 5
    assert catalogue.item("mobile_agents").counted == "named"
    assert catalogue.item("admins").included == 1


def test_r8_add_ons_and_ai_billed_on_usage(catalogue: Catalogue) -> None:
    assert keys(catalogue, ItemKind.ADD_ON) == {
        "realtime_translator",
        "quality_analysis",
        "ai_assistants",
        "ai_agent_assistants",
    }
    assert catalogue.item("ai_agent_assistants").requires == ("ai_assistants",)
    assert catalogue.item("ai_assistants").billed_on_usage
    assert catalogue.usage_price("ai_assistants") == Decimal("0.05")
    assert catalogue.price("ai_assistants", "monthly") == 0


def test_r9_every_plugin_has_download_and_docs_links(catalogue: Catalogue) -> None:
    plugins = catalogue.items_of(ItemKind.PLUGIN)
    assert {p.key for p in plugins} == {"data_retention", "botify", "queue_manager", "schedulease"}
    assert all(
        p.download_url and p.docs_url and p.download_url.startswith("https://") for p in plugins
    )


def test_r18_applications(catalogue: Catalogue) -> None:
    assert keys(catalogue, ItemKind.APPLICATION) == {"crm", "auto_dialer", "helpdesk", "web_phone"}


def test_prices_per_item_and_frequency(catalogue: Catalogue) -> None:
    assert catalogue.prices_are_examples
    assert catalogue.price("agents", "monthly") == Decimal("30.00")
    assert catalogue.price("agents", "annual") == Decimal("324.00")
    with pytest.raises(KeyError):
        catalogue.price("agents", "weekly")
    with pytest.raises(KeyError):
        catalogue.price("pizzas", "monthly")


def test_pbx_extensions_is_an_alias_of_telephones(catalogue: Catalogue) -> None:
    assert catalogue.canonical_key("pbx_extensions") == "telephones"
    assert catalogue.canonical_key("telephones") == "telephones"
    assert catalogue.canonical_key("faxes") is None
    assert catalogue.is_known("telephones") and not catalogue.is_known("pbx_extensions")


SHIPPED = CATALOGUE_PATH.read_text(encoding="utf-8")

BROKEN = [
    # (what to replace, replacement, the line the error must point at, words in the message)
    ("    paid_minimum: 5", "    paid_minimun: 5", "paid_minimun", "unknown field 'paid_minimun'"),
    ("    agents: 3\n", "    agentz: 3\n", "agentz: 3", "'agentz' is not an item"),
    (
        "  crm:\n    title: CRM\n",
        "  crm:\n    title: CRM\n  crm:  # again\n    title: CRM 2\n",
        "crm:  # again",
        "'crm' appears twice",
    ),
    ("channels: [voice]", "channels: [voice", "  digital:", "not valid YAML"),
    ('agents: {monthly: "30.00"', 'agents: {monthly: "thirty"', '"thirty"', "must be an amount"),
    (
        "    requires: [ai_assistants]",
        "    requires: [ai_assistant]",
        "title: AI Agent Assistants",
        "requires 'ai_assistant'",
    ),
    (
        "https://docs.example.com/xcally/plugins/botify",
        "http://docs.example.com/botify",
        "http://docs",
        "must be an https:// link",
    ),
    ("  days: 30", "  days: thirty", "days: thirty", "must be a whole number"),
    ("    included: 1", "    included: -1", "included: -1", "at least 0"),
    ("    webrtc: 1\n", "    webrtc: 2\n", "webrtc: 2", "use 0 or 1"),
    (
        "  annual:\n    title: Annual\n    months: 12\n",
        "",
        'agents: {monthly: "30.00"',
        "unknown field 'annual'",
    ),
]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("old", "new", "at", "words"), BROKEN, ids=[b[3] for b in BROKEN])
def test_broken_catalogue_names_file_line_and_column(
    tmp_path: Path, old: str, new: str, at: str, words: str
) -> None:
    assert SHIPPED.count(old) == 1
    text = SHIPPED.replace(old, new)
    path = tmp_path / "catalogue.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_catalogue(path)
    message = caught.value.message
    location, _, what = message.partition(": ")
    file, line, column = location.rsplit(":", 2)
    assert file == str(path)
    assert words in what
    assert int(column) >= 1
    assert int(line) == line_of(text, at)


def test_missing_price_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(
        "\n".join(line for line in SHIPPED.splitlines() if not line.strip().startswith("botify: {"))
    )
    with pytest.raises(ConfigError, match=r"catalogue.yaml:\d+:\d+: prices: no price for botify"):
        load_catalogue(path)


def test_empty_and_missing_files_are_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    with pytest.raises(ConfigError, match=r"empty.yaml:1:1: the license catalogue is empty"):
        load_catalogue(empty)
    with pytest.raises(ConfigError, match="cannot read the license catalogue"):
        load_catalogue(tmp_path / "absent.yaml")
