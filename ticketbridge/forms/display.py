"""A submitted form in the customer's words: each answered field's label and its answer as the
form showed it (choice labels, Yes/No, file names), for the ticket page and staff views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ticketbridge.forms.common import ACCEPT_CONDITIONS
from ticketbridge.forms.fields import CHOICE_TYPES, FieldType, FormField


def _words(field: FormField, value: Any) -> str:
    if field.type in (FieldType.BOOLEAN, FieldType.YESNO):
        return "Yes" if value else "No"
    if field.type == FieldType.FILE:
        return ", ".join(f"{f['name']} ({f['size']} bytes)" for f in value)
    if field.type in CHOICE_TYPES:
        labels = {c.value: c.label for c in field.choices}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, str(v)) for v in values)
    return str(value)


def answered(fields: Sequence[FormField], form: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, answer) of every field answered, in form order; unanswered and hidden fields,
    and the acceptance of the conditions every request carries, are left out."""
    return [
        (field.label, _words(field, form[field.name]))
        for field in fields
        if field.name != ACCEPT_CONDITIONS
        and form.get(field.name) not in (None, "", [])
        and not (field.type == FieldType.BOOLEAN and form.get(field.name) is False)
    ]
