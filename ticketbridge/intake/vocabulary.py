"""What workflow forms may name, from the license catalogue and the registered form checks.

`choices: {catalogue: add_ons}` lists the catalogue's add-ons by key with their titles;
`reasons.<list>` the reasons of one list (`reasons.deactivate`). The workflow loader asks here,
so a misspelt list is a load error with file:line:column, and a catalogue edit reaches every
form at the next start.
"""

from __future__ import annotations

from collections.abc import Iterable

from ticketbridge.forms.fields import Choice
from ticketbridge.intake.checks import CHECKS, CheckRegistry
from ticketbridge.licenses.catalogue import Catalogue, ItemKind

REASONS_PREFIX = "reasons."


class CatalogueVocabulary:
    def __init__(self, catalogue: Catalogue, checks: CheckRegistry = CHECKS) -> None:
        self.catalogue = catalogue
        self.checks = checks

    def _lists(self) -> dict[str, tuple[Choice, ...]]:
        catalogue = self.catalogue
        lists = {
            kind.value: tuple(Choice(i.key, i.title) for i in catalogue.items_of(kind))
            for kind in ItemKind
        }
        lists |= {
            "plans": tuple(Choice(p.key, p.title) for p in catalogue.plans.values()),
            "support_plans": tuple(
                Choice(c.key, c.title) for c in catalogue.support_plans.values()
            ),
            "billing_frequencies": tuple(
                Choice(f.key, f.title) for f in catalogue.billing_frequencies.values()
            ),
        }
        for name, reasons in catalogue.reasons.items():
            lists[REASONS_PREFIX + name] = tuple(Choice(r.key, r.title) for r in reasons.values())
        return lists

    def choice_sources(self) -> Iterable[str]:
        return self._lists().keys()

    def choices(self, source: str) -> tuple[Choice, ...] | None:
        return self._lists().get(source)

    def check_names(self) -> Iterable[str]:
        return self.checks.names()
