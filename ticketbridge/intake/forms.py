"""Request forms: R1's common fields plus the request type's own, validated with marshmallow.

The field list comes from the workflow file, so the form a customer sees, the data the engine's
guards read and the checks made here can never drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow
from email_validator import EmailNotValidError, validate_email
from marshmallow import fields, validate

from ticketbridge.errors import ValidationError
from ticketbridge.workflow.definitions import FieldType, FormField, FormSpec, Position

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{8,128}$"
TOKEN_HELP = "you find it as Admin in Settings → License: 8 to 128 letters, digits, '-' or '_'"
_HERE = Position("ticketbridge/intake/forms.py", 0, 0)


@dataclass(frozen=True)
class CommonFields:
    """R1: every request names its server token (optional for general requests), customer and
    email."""

    token: FormField
    customer_name: FormField
    customer_email: FormField
    accept_conditions: FormField


def common_fields(spec: FormSpec) -> CommonFields:
    return CommonFields(
        token=FormField(
            "token",
            "License token",
            FieldType.TEXT,
            _HERE,
            required=spec.token_required,
            help=TOKEN_HELP,
        ),
        customer_name=FormField(
            "customer_name",
            "Customer name / reference",
            FieldType.TEXT,
            _HERE,
            required=True,
            maximum=200,
        ),
        customer_email=FormField(
            "customer_email", "Customer email address", FieldType.EMAIL, _HERE, required=True
        ),
        accept_conditions=FormField(
            "accept_conditions",
            "I have read how the license portal self-service works and accept the conditions "
            "and the License Agreement",
            FieldType.BOOLEAN,
            _HERE,
            required=True,
        ),
    )


def all_fields(spec: FormSpec) -> list[FormField]:
    common = common_fields(spec)
    return [
        common.token,
        common.customer_name,
        common.customer_email,
        *spec.fields,
        common.accept_conditions,
    ]


class EmailAddress(fields.String):
    """An address a mail server will accept; email-validator names what is wrong with it."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return validate_email(text.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise marshmallow.ValidationError(f"not a valid email address: {exc}") from None


class Accepted(fields.Boolean):
    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if not super()._deserialize(value, attr, data, **kwargs):
            raise marshmallow.ValidationError(
                "the conditions and the License Agreement must be accepted to send a request"
            )
        return True


def _marshmallow_field(field: FormField) -> fields.Field:
    required = (
        "the conditions and the License Agreement must be accepted to send a request"
        if field.name == "accept_conditions"
        else f"{field.label} is required"
    )
    options: dict[str, Any] = {"required": field.required, "error_messages": {"required": required}}
    if not field.required:
        options["load_default"] = None
    length = validate.Length(max=field.maximum) if field.maximum else None
    match field.type:
        case FieldType.EMAIL:
            return EmailAddress(**options)
        case FieldType.BOOLEAN if field.name == "accept_conditions":
            return Accepted(**options)
        case FieldType.BOOLEAN:
            return fields.Boolean(**{**options, "load_default": False})
        case FieldType.INTEGER:
            return fields.Integer(
                strict=False,
                validate=validate.Range(min=field.minimum, max=field.maximum),
                **options,
            )
        case FieldType.CHOICE:
            return fields.String(validate=validate.OneOf(field.choices), **options)
        case FieldType.MULTICHOICE:
            return fields.List(
                fields.String(validate=validate.OneOf(field.choices)),
                **{**options, "load_default": []},
            )
        case FieldType.DATE:
            return fields.Date(**options)
        case FieldType.FILE:
            return fields.List(fields.Dict(), **{**options, "load_default": []})
        case _ if field.name == "token":
            return fields.String(
                validate=validate.Regexp(TOKEN_PATTERN, error=f"not a license token: {TOKEN_HELP}"),
                **options,
            )
        case _:
            return fields.String(
                validate=[
                    v for v in (length, validate.Length(min=1) if field.required else None) if v
                ],
                **options,
            )


def form_schema(spec: FormSpec) -> marshmallow.Schema:
    schema_class = marshmallow.Schema.from_dict(
        {f.name: _marshmallow_field(f) for f in all_fields(spec)}
    )
    return schema_class(unknown=marshmallow.EXCLUDE)


def validate_form(spec: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Clean form data, or ValidationError naming each field at fault and what it accepts."""
    cleaned = {
        key: value.strip() if isinstance(value, str) else value for key, value in data.items()
    }
    cleaned = {key: value for key, value in cleaned.items() if value not in ("", None, [])}
    try:
        result: dict[str, Any] = form_schema(spec).load(cleaned)
    except marshmallow.ValidationError as exc:
        raise ValidationError(_flatten(exc.normalized_messages())) from None
    return {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in result.items()
    }


def _flatten(messages: Mapping[str, Any]) -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        if isinstance(value, Mapping):
            flat[key] = [m for sub in _flatten(value).values() for m in sub]
        else:
            flat[key] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return flat
