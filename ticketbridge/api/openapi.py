"""The OpenAPI 3.1 document of the request API, generated from the workflows' forms, and of
the staff JSON API (api/staff_openapi.py).

Each request type in force gets its own path with the JSON Schema its form yields
(`forms.jsonschema`), so the document describes exactly what the validator accepts and changes
with the workflow files, never by hand. Served at `/api/v1/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ticketbridge.api import staff_openapi
from ticketbridge.api.staff_openapi import error_answer
from ticketbridge.forms.common import all_fields
from ticketbridge.forms.jsonschema import Schema, form_schema
from ticketbridge.workflow.definitions import Workflow

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
IDEMPOTENCY_PATTERN = r"^[A-Za-z0-9_-]{16,60}$"
ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"type": "string", "description": "written for the reader"},
                "field": {"type": ["string", "null"], "description": "the field at fault"},
            },
        }
    },
}
REFUSAL: dict[str, Any] = {
    **ERROR,
    "required": ["error", "errors"],
    "properties": {
        **ERROR["properties"],
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "every field at fault, with its messages in the customer's words",
        },
    },
}
CREATED: dict[str, Any] = {
    "type": "object",
    "required": ["reference", "ticket_url", "state", "waiting_on"],
    "properties": {
        "reference": {"type": "string", "examples": ["LIC-000123"]},
        "ticket_url": {
            "type": "string",
            "format": "uri",
            "description": "the customer's ticket page (the CLICK HERE TO REPLY link)",
        },
        "state": {"type": "string", "description": "the ticket's workflow state now"},
        "waiting_on": {"enum": ["staff", "customer", "system", "nobody"]},
    },
}


def _operation(workflow: Workflow) -> dict[str, Any]:
    name = workflow.name
    return {
        "operationId": f"create_{name}_request",
        "summary": workflow.title or name,
        "description": workflow.form.intro,
        "tags": ["requests"],
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}},
                "multipart/form-data": {
                    "schema": {"$ref": f"#/components/schemas/{name}_multipart"}
                },
            },
        },
        "responses": {
            "201": {
                "description": "Created; Location is the ticket link",
                "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Created"}}
                },
            },
            "400": error_answer("The body is not a JSON object, or a NUL or too deep"),
            "413": error_answer("The body or a file is too large"),
            "415": error_answer("Neither application/json nor multipart/form-data"),
            "422": error_answer("Refused: each field at fault with its messages", "Refusal"),
            "429": error_answer("Too many requests from this address; Retry-After says when"),
            "503": error_answer("The service is temporarily unavailable; Retry-After says when"),
        },
    }


def _schemas(workflow: Workflow) -> dict[str, Schema]:
    fields = all_fields(workflow.form)
    title = workflow.title or workflow.name
    return {
        workflow.name: form_schema(fields, files=False, title=title),
        f"{workflow.name}_multipart": form_schema(fields, files=True, title=title),
    }


def openapi_document(workflows: Iterable[Workflow], server_url: str) -> dict[str, Any]:
    workflows = list(workflows)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "ticketbridge license requests and staff API",
            "version": API_VERSION,
            "description": "File license requests as the portal's forms do. Every request "
            "answers with a ticket; its outcome is emailed to the customer. Staff read the "
            "queue and tickets and take actions under /api/v1/tickets with a bearer token.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            **{f"/api/v1/requests/{w.name}": {"post": _operation(w)} for w in workflows},
            **staff_openapi.PATHS,
        },
        "components": {
            "schemas": {
                "Created": CREATED,
                "Error": ERROR,
                "Refusal": REFUSAL,
                **staff_openapi.SCHEMAS,
                **{name: s for w in workflows for name, s in _schemas(w).items()},
            },
            "securitySchemes": staff_openapi.SECURITY_SCHEMES,
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "retrying with the same key returns the ticket the first "
                    "attempt created",
                    "schema": {"type": "string", "pattern": IDEMPOTENCY_PATTERN},
                }
            },
        },
    }
