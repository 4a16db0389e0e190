"""The JSON Schema of the workflow language, generated from what the loader itself uses.

Keys come from the loader's constants, enums from `definitions`, step names and their parameters
from the step registry (marshmallow schemas, translated here). Generation fails if the loader
accepts a key this module cannot describe, so the shipped `workflows/workflow.schema.json`
cannot silently drift from the loader: a test compares it with a fresh generation.
Editors (the YAML language server) use it to complete and check files as admins type; the
loader remains the authority, since a schema cannot see states, templates or guard syntax.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from typing import Any

import marshmallow
from marshmallow import fields, validate

from ticketbridge.forms.fields import DEFAULT_MAX_FILES
from ticketbridge.licenses.calendar import INSTANTS
from ticketbridge.steps.registry import StepRegistry
from ticketbridge.workflow import loader
from ticketbridge.workflow.definitions import FieldType, Outcome, TriggerKind, WaitsOn

Schema = dict[str, Any]
SCHEMA_FILE_NAME = "workflow.schema.json"
NAME: Schema = {"type": "string", "pattern": loader.NAME.pattern, "description": loader.NAME_RULE}
DURATION: Schema = {
    "type": "string",
    "pattern": loader.DURATION.pattern,
    "description": loader.DURATION_RULE,
}
EXPRESSION: Schema = {
    "type": "string",
    "description": "a CEL expression over form, license, ticket and now",
}
TEXT: Schema = {"type": "string"}
CATALOGUE_LIST: Schema = {
    "type": "string",
    "pattern": r"^(plans|support_plans|billing_frequencies|countable|features|add_ons|plugins|"
    r"applications|reasons\.[a-z_]+)$",
    "description": "a list of config/catalogue.yaml: its keys are the values, its titles the "
    "labels",
}
FIELD_TYPES = (
    "text (one line), textarea, email, token (a license token), integer, boolean (a box to "
    "tick), yesno, choice, multichoice, date (YYYY-MM-DD), file (uploads)"
)
TEMPLATES: Schema = {
    "type": "array",
    "items": {"type": "string"},
    "description": "email template names (folders of email_templates/)",
}


def _enum(kind: type[enum.StrEnum], description: str = "") -> Schema:
    schema: Schema = {"enum": [member.value for member in kind]}
    return {**schema, "description": description} if description else schema


def _object(
    keys: Iterable[str], properties: Mapping[str, Schema], required: Iterable[str] = ()
) -> Schema:
    """An object accepting exactly the loader's keys; a key without a description is a bug here."""
    keys = tuple(keys)
    missing = sorted(set(keys) - set(properties))
    if missing:
        raise AssertionError(
            f"the loader accepts {', '.join(missing)}, which the schema does not describe"
        )
    schema: Schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {key: properties[key] for key in keys},
    }
    required = list(required)
    return {**schema, "required": required} if required else schema


def _marshmallow_field(field: fields.Field[Any]) -> Schema:
    schema: Schema
    match field:
        case fields.Integer():
            schema = {"type": "integer"}
        case fields.Number():
            schema = {"type": "number"}
        case fields.Boolean():
            schema = {"type": "boolean"}
        case fields.List():
            schema = {"type": "array", "items": _marshmallow_field(field.inner)}
        case fields.Date():
            schema = {"type": "string", "format": "date"}
        case _:
            schema = {"type": "string"}
    for validator in field.validators:
        match validator:
            case validate.Range():
                schema.update(
                    {
                        k: v
                        for k, v in (("minimum", validator.min), ("maximum", validator.max))
                        if v is not None
                    }
                )
            case validate.Length():
                schema.update(
                    {
                        k: v
                        for k, v in (("minLength", validator.min), ("maxLength", validator.max))
                        if v is not None
                    }
                )
            case validate.OneOf():
                schema["enum"] = list(validator.choices)
    return schema


def params_schema(params: type[marshmallow.Schema]) -> Schema:
    declared = params().fields
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: _marshmallow_field(field) for name, field in declared.items()},
        **(
            {"required": required}
            if (required := [n for n, f in declared.items() if f.required])
            else {}
        ),
    }


def _actions(steps: StepRegistry) -> Schema:
    choices: list[Schema] = []
    for name in sorted(steps.names()):
        step = steps.get(name)
        params = params_schema(step.params)
        with_params: Schema = {
            "type": "object",
            "additionalProperties": False,
            "required": [name],
            "properties": {name: params},
            "description": step.description,
        }
        choices.append(
            with_params
            if params.get("required")
            else {"oneOf": [{"const": name, "description": step.description}, with_params]}
        )
    return {"type": "array", "items": {"oneOf": choices}}


def workflow_schema(steps: StepRegistry, checks: Iterable[str]) -> Schema:
    field = _object(
        loader.FIELD_KEYS,
        {
            "name": NAME,
            "label": {**TEXT, "description": "the words shown (default: the name, capitalised)"},
            "type": _enum(FieldType, FIELD_TYPES),
            "required": {
                "type": "boolean",
                "description": "must be answered when shown; a boolean must be ticked",
            },
            "choices": {
                "description": "choice and multichoice: the values, values with labels, or a "
                "list of the license catalogue",
                "oneOf": [
                    {
                        "type": "array",
                        "items": {
                            "oneOf": [
                                {"type": "string"},
                                _object(
                                    loader.CHOICE_KEYS,
                                    {"value": TEXT, "label": TEXT},
                                    loader.CHOICE_KEYS,
                                ),
                            ]
                        },
                    },
                    _object(
                        (loader.CATALOGUE_CHOICES_KEY,),
                        {loader.CATALOGUE_CHOICES_KEY: CATALOGUE_LIST},
                        (loader.CATALOGUE_CHOICES_KEY,),
                    ),
                ],
            },
            "min": {"type": "integer", "description": "integer: the smallest value"},
            "max": {
                "type": "integer",
                "description": "integer: the largest value; text, textarea: the most characters "
                "(default 200 and 10000)",
            },
            "max_files": {
                "type": "integer",
                "minimum": 1,
                "description": f"file: how many files (default {DEFAULT_MAX_FILES})",
            },
            "max_size": {
                "type": ["string", "integer"],
                "pattern": loader.SIZE.pattern,
                "description": f"file: the largest file, {loader.SIZE_RULE} (default 10MB)",
            },
            "help": {**TEXT, "description": "shown under the field and after its errors"},
            "section": {
                **TEXT,
                "description": "a heading; consecutive fields of one section are grouped",
            },
            "when": {
                **EXPRESSION,
                "description": "a CEL expression over the answers above (form.X): the field "
                "is shown, and required, only when it holds; otherwise its answer is dropped",
            },
        },
        loader.FIELD_REQUIRED,
    )
    state = _object(
        loader.STATE_KEYS,
        {
            "waits_on": _enum(WaitsOn, "who must act next"),
            "outcome": _enum(Outcome, "makes the state final"),
            "target_time": {
                **DURATION,
                "description": "after this long in the state the ticket is overdue",
            },
            "description": TEXT,
            "emails": TEMPLATES,
            "actions": {"$ref": "#/$defs/actions"},
            "asks": {
                "type": "array",
                "items": {"$ref": "#/$defs/field"},
                "description": "waits_on customer: the fields the customer's ticket page asks "
                "for (a log file, a confirmation); the answers join the form (form.X) when the "
                "customer_reply transition fires",
            },
        },
    )
    transition = _object(
        loader.TRANSITION_KEYS,
        {
            "name": NAME,
            "from": TEXT,
            "to": TEXT,
            "trigger": _enum(TriggerKind),
            "guard": EXPRESSION,
            "actions": {"$ref": "#/$defs/actions"},
            "emails": TEMPLATES,
            "reason": TEXT,
            "label": {**TEXT, "description": "manual: the button staff click"},
            "role": {
                "enum": list(loader.ROLES),
                "description": "manual: who may click it (admins may do agents' actions)",
            },
            "fields": {
                "type": "array",
                "items": {"$ref": "#/$defs/field"},
                "description": "manual: what staff fill in",
            },
            "after": {**DURATION, "description": "timer: fire this long after entering the state"},
            "at": {
                **EXPRESSION,
                "description": "timer: an instant of the billing calendar ("
                + ", ".join(INSTANTS)
                + "), optionally with an offset ('license_expiry - 7d'), or an expression "
                "giving the timestamp to fire at",
            },
        },
        loader.TRANSITION_REQUIRED,
    )
    transition["allOf"] = [
        {
            "if": {
                "required": ["trigger"],
                "properties": {"trigger": {"const": TriggerKind.MANUAL.value}},
            },
            "then": {"required": ["label"]},
        },
        {
            "if": {
                "required": ["trigger"],
                "properties": {"trigger": {"const": TriggerKind.TIMER.value}},
            },
            "then": {"oneOf": [{"required": ["after"]}, {"required": ["at"]}]},
        },
    ]
    form = _object(
        loader.FORM_KEYS,
        {
            "token": {
                "enum": list(loader.TOKEN_CHOICES),
                "description": "R1's license token field (default required)",
            },
            "token_label": {**TEXT, "description": "the token field's words, e.g. Old token"},
            "intro": TEXT,
            "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}},
            "checks": {
                "type": "array",
                "items": {"enum": sorted(checks)},
                "description": "cross-checks with the license registry before anything is created",
            },
        },
    )
    root = _object(
        loader.WORKFLOW_KEYS,
        {
            "name": NAME,
            "title": TEXT,
            "form": {"$ref": "#/$defs/form"},
            "initial": TEXT,
            "states": {
                "type": "object",
                "propertyNames": NAME,
                "additionalProperties": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/state"}]},
            },
            "transitions": {"type": "array", "items": {"$ref": "#/$defs/transition"}},
            "reopen_on_reply": TEXT,
        },
        loader.WORKFLOW_REQUIRED,
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ticketbridge workflow",
        "description": "Generated by `ticketbridge workflows schema`; do not edit by hand.",
        **root,
        "$defs": {
            "form": form,
            "field": field,
            "state": state,
            "transition": transition,
            "actions": _actions(steps),
        },
    }


def schema_text(steps: StepRegistry, checks: Iterable[str]) -> str:
    return json.dumps(workflow_schema(steps, checks), indent=2, ensure_ascii=False) + "\n"
