"""Validate what staff fill in for a manual transition ("reject" with a reason).

The fields are declared on the transition in YAML; the cleaned values go on the timeline, so
they are plain JSON (dates as ISO text). Every field at fault is reported at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from ticketbridge.errors import ValidationError
from ticketbridge.workflow.definitions import FieldType, FormField


def _text(field: FormField, value: Any) -> Any:
    text = str(value).strip()
    if field.maximum is not None and len(text) > field.maximum:
        raise ValueError(f"at most {field.maximum} characters")
    return text


def _integer(field: FormField, value: Any) -> Any:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("must be a whole number") from None
    if (field.minimum is not None and number < field.minimum) or (
        field.maximum is not None and number > field.maximum
    ):
        raise ValueError(
            f"must be between {field.minimum if field.minimum is not None else '-∞'} and "
            f"{field.maximum if field.maximum is not None else '∞'}"
        )
    return number


def _boolean(field: FormField, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "yes", "on", "1"):
        return True
    if str(value).lower() in ("false", "no", "off", "0"):
        return False
    raise ValueError("must be yes or no")


def _choice(field: FormField, value: Any) -> Any:
    if value not in field.choices:
        raise ValueError(f"must be one of: {', '.join(field.choices)}")
    return value


def _choices(field: FormField, value: Any) -> Any:
    values = value if isinstance(value, list) else [value]
    unknown = [v for v in values if v not in field.choices]
    if unknown:
        raise ValueError(f"{', '.join(map(str, unknown))} not among: {', '.join(field.choices)}")
    return values


def _date(field: FormField, value: Any) -> Any:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError("must be a date, YYYY-MM-DD") from None


CONVERTERS: Mapping[FieldType, Callable[[FormField, Any], Any]] = {
    FieldType.INTEGER: _integer,
    FieldType.BOOLEAN: _boolean,
    FieldType.CHOICE: _choice,
    FieldType.MULTICHOICE: _choices,
    FieldType.DATE: _date,
}


def validate_staff_fields(fields: tuple[FormField, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """Cleaned values of the declared fields (others are dropped), or ValidationError naming each
    bad one."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in fields:
        value = data.get(field.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                errors[field.name] = [f"{field.label} is required"]
            continue
        try:
            cleaned[field.name] = CONVERTERS.get(field.type, _text)(field, value)
        except ValueError as exc:
            errors[field.name] = [f"{field.label} {exc}"]
    if errors:
        raise ValidationError(errors)
    return cleaned
