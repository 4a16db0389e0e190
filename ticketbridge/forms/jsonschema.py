"""The JSON Schema of a form, from the same fields the validator reads (for the OpenAPI document).

JSON Schema cannot evaluate a `when:` expression, so a field shown only for some answers is
never listed as required; its description says when it applies, and the validator decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ticketbridge.forms.fields import FieldType, FormField
from ticketbridge.forms.validate import TOKEN_PATTERN

Schema = dict[str, Any]
ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
SHOWN = r"[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _type_schema(field: FormField) -> Schema:
    match field.type:
        case FieldType.TEXT | FieldType.TEXTAREA:
            # No control characters (the validator refuses them); the validator trims, so a
            # required answer needs one character that is not blank.
            pattern = f"^{ALLOWED}*{SHOWN}{ALLOWED}*$" if field.required else f"^{ALLOWED}*$"
            return {"type": "string", "maxLength": field.max_length, "pattern": pattern}
        case FieldType.EMAIL:
            return {"type": "string", "format": "email"}
        case FieldType.TOKEN:
            return {"type": "string", "pattern": TOKEN_PATTERN.pattern}
        case FieldType.INTEGER:
            bounds = {"minimum": field.minimum, "maximum": field.maximum}
            return {"type": "integer", **{k: v for k, v in bounds.items() if v is not None}}
        case FieldType.BOOLEAN if field.required:
            return {"type": "boolean", "const": True}
        case FieldType.BOOLEAN | FieldType.YESNO:
            return {"type": "boolean"}
        case FieldType.CHOICE:
            return {"type": "string", "enum": list(field.choice_values())}
        case FieldType.MULTICHOICE:
            return {
                "type": "array",
                "items": {"type": "string", "enum": list(field.choice_values())},
                "uniqueItems": True,
            }
        case FieldType.DATE:
            return {"type": "string", "format": "date"}
        case FieldType.FILE:
            most, largest = field.file_limits
            return {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "maxItems": most,
                "description": f"each file at most {largest:,} bytes",
            }
    raise AssertionError(f"no JSON Schema for field type {field.type}")


def _description(field: FormField) -> str:
    parts = [field.help] if field.help else []
    if field.choices and any(c.label != c.value for c in field.choices):
        parts.append("; ".join(f"{c.value}: {c.label}" for c in field.choices))
    if field.when is not None:
        parts.append(f"Applies only when {field.when.source}; ignored otherwise.")
    return " ".join(parts)


def field_schema(field: FormField) -> Schema:
    schema = {"title": field.label, **_type_schema(field)}
    description = " ".join(p for p in (schema.pop("description", ""), _description(field)) if p)
    return {**schema, "description": description} if description else schema


def form_schema(fields: Sequence[FormField], *, files: bool, title: str = "") -> Schema:
    """An object schema of the form; `files=False` leaves out file fields (a JSON body has
    none: files come as multipart/form-data)."""
    chosen = [f for f in fields if files or f.type != FieldType.FILE]
    required = [f.name for f in chosen if f.required and f.when is None]
    schema: Schema = {
        "type": "object",
        "properties": {f.name: field_schema(f) for f in chosen},
        # Other names are ignored, but their values are still read for NUL characters.
        "additionalProperties": False,
    }
    if title:
        schema["title"] = title
    return {**schema, "required": required} if required else schema
