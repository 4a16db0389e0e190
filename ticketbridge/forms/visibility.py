"""Which answers of a single choice show a field, so a page's script can hide the rest at once.

The server decides what counts (`validate`); this only lets a browser with JavaScript hide what
is not asked. A `when:` that reads exactly one choice, yes/no or multiple-choice field above it
is evaluated, with the real expression, for each answer that field offers (for a multiple
choice: each choice ticked alone, and the part is shown while any ticked choice shows it);
anything else stays shown. The script never hides a part that holds an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ticketbridge.errors import TicketbridgeError
from ticketbridge.forms.fields import FieldType, FormField
from ticketbridge.forms.validate import empty_value

YESNO_ANSWERS = {"yes": True, "no": False}


@dataclass(frozen=True)
class ShownWhen:
    """The field is shown while the field `name` has one of `answers` (as the page sends it;
    for a multiple choice, while one of the ticked values is among them)."""

    name: str
    answers: tuple[str, ...]


def _answers(field: FormField) -> dict[str, object]:
    """What the page sends for each answer ('' while unanswered), and its clean value."""
    offered: dict[str, object] = (
        dict(YESNO_ANSWERS)
        if field.type == FieldType.YESNO
        else {
            value: [value] if field.type == FieldType.MULTICHOICE else value
            for value in field.choice_values()
        }
    )
    return {"": empty_value(field), **offered}


def shown_when(fields: Sequence[FormField], field: FormField) -> ShownWhen | None:
    if field.when is None:
        return None
    above = {f.name: f for f in fields[: list(fields).index(field)]}
    read = field.when.form_references()
    if len(read) != 1 or next(iter(read)) not in above:
        return None
    controller = above[next(iter(read))]
    if controller.type not in (FieldType.CHOICE, FieldType.YESNO, FieldType.MULTICHOICE):
        return None
    blank = {f.name: empty_value(f) for f in fields}
    shown = []
    for sent, value in _answers(controller).items():
        try:
            if field.when.holds({"form": {**blank, controller.name: value}}):
                shown.append(sent)
        except TicketbridgeError:
            continue
    return ShownWhen(controller.name, tuple(shown))


def group_shown_when(fields: Sequence[FormField], group: Sequence[FormField]) -> ShownWhen | None:
    """The condition all fields of a section share, if they share one."""
    conditions = {shown_when(fields, f) for f in group}
    return conditions.pop() if len(conditions) == 1 else None
