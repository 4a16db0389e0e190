"""The license catalogue (config/catalogue.yaml): what can be on a license, and its prices.

It is read once at start-up into frozen dataclasses. The YAML is composed into nodes rather
than loaded into plain dicts so that every mistake - a typo in a field name, a duplicate
key, a demo item that does not exist - stops start-up with `file:line:column: what is
wrong; how to fix it`, pointing at the offending line instead of failing in a request later.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ticketbridge import yamltext
from ticketbridge.errors import ConfigError

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_SCALARS = yaml.SafeLoader("")  # reads YAML 1.1 integers (1_000, 0x10) exactly as PyYAML does

SECTIONS = (
    "version",
    "plans",
    "countable",
    "features",
    "add_ons",
    "plugins",
    "applications",
    "support_plans",
    "billing_frequencies",
    "demo",
    "prices",
)
OPTIONAL_SECTIONS = ("reasons",)


class ItemKind(enum.StrEnum):
    """The catalogue section an entitlement item comes from; all but COUNT are 0/1 flags."""

    COUNT = "countable"
    FEATURE = "features"
    ADD_ON = "add_ons"
    PLUGIN = "plugins"
    APPLICATION = "applications"


@dataclass(frozen=True)
class Item:
    """One entitlement item: a key of the license's entitlement snapshot."""

    key: str
    kind: ItemKind
    title: str
    counted: str | None = None  # "concurrent" or "named" for countable items (R7)
    paid_minimum: int = 0  # least quantity on a paid plan (R7: 5 agents)
    included: int = 0  # always on the license and never billed (R7: 1 admin)
    aliases: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # other flags that must be on (R8)
    billed_on_usage: bool = False  # R8: AI bots
    usage_unit: str | None = None
    download_url: str | None = None  # plugins (R9)
    docs_url: str | None = None

    @property
    def is_flag(self) -> bool:
        return self.kind is not ItemKind.COUNT


@dataclass(frozen=True)
class Plan:
    key: str
    title: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """A named option without further data (support plans)."""

    key: str
    title: str


@dataclass(frozen=True)
class BillingFrequency:
    key: str
    title: str
    months: int


@dataclass(frozen=True)
class Price:
    """Per unit: per billing frequency for subscribed items, per use for usage-billed ones."""

    per_frequency: Mapping[str, Decimal]
    per_use: Decimal | None


@dataclass(frozen=True)
class Catalogue:
    source: Path
    plans: Mapping[str, Plan]
    items: Mapping[str, Item]
    support_plans: Mapping[str, Choice]
    billing_frequencies: Mapping[str, BillingFrequency]
    demo_days: int
    demo_entitlements: Mapping[str, int]
    currency: str
    prices_are_examples: bool
    prices: Mapping[str, Price]
    reasons: Mapping[str, Mapping[str, Choice]] = field(default_factory=dict)
    """The reasons a form offers, by list name (add, remove, deactivate): words, not rules."""

    def is_known(self, key: str) -> bool:
        return key in self.items

    @cached_property
    def items_fingerprint(self) -> str:
        """A hash of every item as loaded (key, kind, title, …), in order: what a sync answer's
        ETag (R16) carries so a catalogue edit gives servers a fresh answer. Computed once."""
        return hashlib.sha256(repr(tuple(self.items.values())).encode()).hexdigest()[:16]

    def item(self, key: str) -> Item:
        try:
            return self.items[key]
        except KeyError:
            raise KeyError(
                f"{key!r} is not an item of the license catalogue {self.source}"
            ) from None

    def canonical_key(self, name: str) -> str | None:
        """The item key for a key or an alias (e.g. the form's "pbx_extensions"), else None."""
        if name in self.items:
            return name
        return next((i.key for i in self.items.values() if name in i.aliases), None)

    def items_of(self, kind: ItemKind) -> tuple[Item, ...]:
        return tuple(i for i in self.items.values() if i.kind is kind)

    def demo_bundle(self) -> dict[str, int]:
        """R3: the entitlement snapshot of a 30-day demo (a fresh dict the caller may keep)."""
        return dict(self.demo_entitlements)

    def price(self, key: str, frequency: str) -> Decimal:
        """Unit price per billing period; 0 for usage-billed items, whose use is billed instead."""
        if frequency not in self.billing_frequencies:
            raise KeyError(f"{frequency!r} is not a billing frequency of {self.source}")
        price = self.prices[self.item(key).key]
        return price.per_frequency.get(frequency, Decimal(0))

    def usage_price(self, key: str) -> Decimal:
        """Price per recorded use of a usage-billed item (R8)."""
        per_use = self.prices[self.item(key).key].per_use
        if per_use is None:
            raise KeyError(f"{key!r} is not billed on usage")
        return per_use


def load_catalogue(path: Path | str) -> Catalogue:
    """Read and validate the catalogue; any mistake raises ConfigError naming file:line:column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the license catalogue ({exc.strerror}); "
            "set catalogue_path to an existing YAML file"
        ) from exc
    try:
        root = yamltext.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({exc.problem}); fix the syntax there") from exc
    if root is None:
        raise ConfigError(
            f"{path}:1:1: the license catalogue is empty; add the sections " + ", ".join(SECTIONS)
        )
    return _Parser(path).catalogue(root)


class _Parser:
    """Turns composed YAML nodes into a Catalogue, with node marks for every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, node: Node, message: str) -> ConfigError:
        mark = node.start_mark
        return ConfigError(f"{self.path}:{mark.line + 1}:{mark.column + 1}: {message}")

    # -- generic node readers --------------------------------------------------------------

    def mapping(self, node: Node, what: str) -> dict[str, Node]:
        """A mapping with string keys, each at most once; values keyed by name."""
        if not isinstance(node, MappingNode):
            raise self.error(node, f"{what} must be a mapping of name: value")
        result: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                raise self.error(key_node, f"keys of {what} must be plain names")
            if key_node.value in result:
                raise self.error(key_node, f"{key_node.value!r} appears twice in {what}; keep one")
            result[key_node.value] = value_node
        return result

    def fields(
        self, node: Node, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, Node]:
        """A mapping whose keys must come from required + optional, catching typos."""
        found = self.mapping(node, what)
        for key_node, _ in node.value:
            if key_node.value not in required and key_node.value not in optional:
                allowed = ", ".join(required + optional)
                raise self.error(
                    key_node,
                    f"unknown field {key_node.value!r} in {what}; allowed fields are: {allowed}",
                )
        for name in required:
            if name not in found:
                raise self.error(node, f"{what} lacks the field {name!r}; add it")
        return found

    def string(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag != _STR or not node.value.strip():
            raise self.error(node, f"{what} must be a non-empty text")
        return str(node.value)

    def integer(self, node: Node, what: str, minimum: int) -> int:
        if not isinstance(node, ScalarNode) or node.tag != _INT:
            raise self.error(node, f"{what} must be a whole number")
        value = int(_SCALARS.construct_yaml_int(node))
        if value < minimum:
            raise self.error(node, f"{what} must be at least {minimum}, not {value}")
        return value

    def boolean(self, node: Node, what: str) -> bool:
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            raise self.error(node, f"{what} must be true or false")
        return node.value.lower() in ("true", "yes", "on")

    def decimal(self, node: Node, what: str) -> Decimal:
        """A non-negative amount; quoted text is read exactly (no float rounding)."""
        try:
            value = Decimal(node.value) if isinstance(node, ScalarNode) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0:
            raise self.error(node, f'{what} must be an amount such as "30.00"')
        return value

    def names(self, node: Node, what: str) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.error(node, f"{what} must be a non-empty list such as [a, b]")
        return tuple(self.string(n, f"each entry of {what}") for n in node.value)

    def url(self, node: Node, what: str) -> str:
        value = self.string(node, what)
        if not value.startswith("https://"):
            raise self.error(node, f"{what} must be an https:// link")
        return value

    # -- sections --------------------------------------------------------------------------

    def catalogue(self, root: Node) -> Catalogue:
        top = self.fields(root, "the catalogue", SECTIONS, OPTIONAL_SECTIONS)
        version = self.integer(top["version"], "version", 1)
        if version != 1:
            raise self.error(
                top["version"], "only catalogue version 1 is understood; set version: 1"
            )
        items: dict[str, Item] = {}
        key_nodes: dict[str, Node] = {}
        for kind in ItemKind:
            for key, node, item in self.items(kind, top[kind.value]):
                for name in (key, *item.aliases):
                    if name in key_nodes:
                        raise self.error(
                            node,
                            f"{name!r} is already an item or alias "
                            "elsewhere in the catalogue; item keys must be unique",
                        )
                    key_nodes[name] = node
                items[key] = item
        for key, item in items.items():
            for required in item.requires:
                if required not in items or not items[required].is_flag:
                    raise self.error(
                        key_nodes[key],
                        f"{key} requires {required!r}, which is not "
                        "a feature, add-on, plugin or application",
                    )
        frequencies = self.frequencies(top["billing_frequencies"])
        demo_days, demo = self.demo(top["demo"], items)
        currency, examples, prices = self.prices(top["prices"], items, frequencies)
        return Catalogue(
            source=self.path,
            plans=MappingProxyType(self.plans(top["plans"])),
            items=MappingProxyType(items),
            support_plans=MappingProxyType(
                {
                    key: Choice(
                        key,
                        self.string(
                            self.fields(n, f"support plan {key}", ("title",))["title"],
                            f"support plan {key}: title",
                        ),
                    )
                    for key, n in self.mapping(top["support_plans"], "support_plans").items()
                }
            ),
            billing_frequencies=MappingProxyType(frequencies),
            demo_days=demo_days,
            demo_entitlements=MappingProxyType(demo),
            currency=currency,
            prices_are_examples=examples,
            prices=MappingProxyType(prices),
            reasons=MappingProxyType(self.reasons(top["reasons"]) if "reasons" in top else {}),
        )

    def reasons(self, node: Node) -> dict[str, Mapping[str, Choice]]:
        lists: dict[str, Mapping[str, Choice]] = {}
        for name, list_node in self.mapping(node, "reasons").items():
            what = f"reasons {name}"
            entries = {
                key: Choice(
                    key,
                    self.string(
                        self.fields(n, f"{what} {key}", ("title",))["title"], f"{what} {key}: title"
                    ),
                )
                for key, n in self.mapping(list_node, what).items()
            }
            if not entries:
                raise self.error(list_node, f"{what} is empty; add at least one reason")
            lists[name] = MappingProxyType(entries)
        return lists

    def plans(self, node: Node) -> dict[str, Plan]:
        plans = {}
        for key, value in self.mapping(node, "plans").items():
            f = self.fields(value, f"plan {key}", ("title", "channels"))
            plans[key] = Plan(
                key,
                self.string(f["title"], f"plan {key}: title"),
                self.names(f["channels"], f"plan {key}: channels"),
            )
        if not plans:
            raise self.error(node, "plans is empty; add at least one plan")
        return plans

    def items(self, kind: ItemKind, node: Node) -> list[tuple[str, Node, Item]]:
        section = kind.value
        optional = {
            ItemKind.COUNT: ("counted", "paid_minimum", "included", "aliases"),
            ItemKind.FEATURE: ("requires",),
            ItemKind.ADD_ON: ("requires", "billing", "usage_unit"),
            ItemKind.PLUGIN: ("requires", "download_url", "docs_url"),
            ItemKind.APPLICATION: ("requires",),
        }[kind]
        required = ("title", "download_url", "docs_url") if kind is ItemKind.PLUGIN else ("title",)
        optional = tuple(o for o in optional if o not in required)
        result = []
        for key, value in self.mapping(node, section).items():
            what = f"{section} {key}"
            f = self.fields(value, what, required, optional)
            counted = None
            if kind is ItemKind.COUNT:
                counted = (
                    self.string(f["counted"], f"{what}: counted") if "counted" in f else "named"
                )
                if counted not in ("concurrent", "named"):
                    raise self.error(f["counted"], f"{what}: counted must be concurrent or named")
            billed_on_usage = False
            if "billing" in f:
                billing = self.string(f["billing"], f"{what}: billing")
                if billing not in ("subscription", "usage"):
                    raise self.error(f["billing"], f"{what}: billing must be subscription or usage")
                billed_on_usage = billing == "usage"
            if "usage_unit" in f and not billed_on_usage:
                raise self.error(f["usage_unit"], f"{what}: usage_unit needs billing: usage")
            result.append(
                (
                    key,
                    value,
                    Item(
                        key=key,
                        kind=kind,
                        title=self.string(f["title"], f"{what}: title"),
                        counted=counted,
                        paid_minimum=self.integer(f["paid_minimum"], f"{what}: paid_minimum", 0)
                        if "paid_minimum" in f
                        else 0,
                        included=self.integer(f["included"], f"{what}: included", 0)
                        if "included" in f
                        else 0,
                        aliases=self.names(f["aliases"], f"{what}: aliases")
                        if "aliases" in f
                        else (),
                        requires=self.names(f["requires"], f"{what}: requires")
                        if "requires" in f
                        else (),
                        billed_on_usage=billed_on_usage,
                        usage_unit=self.string(f["usage_unit"], f"{what}: usage_unit")
                        if "usage_unit" in f
                        else None,
                        download_url=self.url(f["download_url"], f"{what}: download_url")
                        if "download_url" in f
                        else None,
                        docs_url=self.url(f["docs_url"], f"{what}: docs_url")
                        if "docs_url" in f
                        else None,
                    ),
                )
            )
        return result

    def frequencies(self, node: Node) -> dict[str, BillingFrequency]:
        result = {}
        for key, value in self.mapping(node, "billing_frequencies").items():
            f = self.fields(value, f"billing frequency {key}", ("title", "months"))
            result[key] = BillingFrequency(
                key,
                self.string(f["title"], f"billing frequency {key}: title"),
                self.integer(f["months"], f"billing frequency {key}: months", 1),
            )
        if not result:
            raise self.error(node, "billing_frequencies is empty; add monthly and annual")
        return result

    def demo(self, node: Node, items: Mapping[str, Item]) -> tuple[int, dict[str, int]]:
        f = self.fields(node, "demo", ("days", "entitlements"))
        entitlements = {}
        for key, value in self.mapping(f["entitlements"], "demo: entitlements").items():
            if key not in items:
                raise self.error(
                    value,
                    f"demo: {key!r} is not an item of the catalogue; "
                    "use one of: " + ", ".join(items),
                )
            quantity = self.integer(value, f"demo: {key}", 0)
            if items[key].is_flag and quantity > 1:
                raise self.error(value, f"demo: {key} is on/off; use 0 or 1")
            entitlements[key] = quantity
        return self.integer(f["days"], "demo: days", 1), entitlements

    def prices(
        self, node: Node, items: Mapping[str, Item], frequencies: Mapping[str, BillingFrequency]
    ) -> tuple[str, bool, dict[str, Price]]:
        f = self.fields(node, "prices", ("example_figures", "currency", "items"))
        prices = {}
        entries = self.mapping(f["items"], "prices: items")
        for key, value in entries.items():
            if key not in items:
                raise self.error(
                    value,
                    f"prices: {key!r} is not an item of the catalogue; remove it or add the item",
                )
            what = f"prices: {key}"
            if items[key].billed_on_usage:
                p = self.fields(value, what + " (billed on usage)", ("per_use",))
                prices[key] = Price(
                    MappingProxyType({}), self.decimal(p["per_use"], what + ": per_use")
                )
            else:
                p = self.fields(value, what, tuple(frequencies))
                prices[key] = Price(
                    MappingProxyType(
                        {freq: self.decimal(p[freq], f"{what}: {freq}") for freq in frequencies}
                    ),
                    None,
                )
        missing = [key for key in items if key not in prices]
        if missing:
            raise self.error(
                f["items"],
                "prices: no price for "
                + ", ".join(missing)
                + "; add one (0.00 where the item is free)",
            )
        return (
            self.string(f["currency"], "prices: currency"),
            self.boolean(f["example_figures"], "prices: example_figures"),
            prices,
        )
