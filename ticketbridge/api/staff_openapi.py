"""The staff JSON API's part of the OpenAPI document (api/staff.py): paths, schemas, security.

Written beside the endpoints rather than generated: their answers are fixed shapes (the read
layer's rows and a ticket), unlike the request API's bodies, which follow the workflows' forms.
tests/staff/test_staff_api.py validates real answers against these schemas and the OpenAPI fuzz
test sends them generated requests with a valid token, so the two cannot drift apart unseen.
"""

from __future__ import annotations

from typing import Any

from ticketbridge.tickets.models import WaitingOn
from ticketbridge.tickets.queries import View

SECURITY_SCHEME = "staffToken"
REFERENCE_PATTERN = r"^[Ll][Ii][Cc]-[0-9]{1,9}$"
WAITING_ON: dict[str, Any] = {"enum": [w.value for w in WaitingOn]}
NULLABLE_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
CUSTOMER: dict[str, Any] = {
    "type": "object",
    "required": ["name", "email"],
    "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
}


def error_answer(description: str, schema: str = "Error") -> dict[str, Any]:
    """An error answer: JSON with `error.message` (and `error.field`), as every API error is."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    """The error answers an operation can give, each described once here."""
    described = {
        400: "The body is not a JSON object, or carries a NUL or is nested too deep",
        401: "No valid staff token: send Authorization: Bearer tbs_… "
        "(`ticketbridge staff api-token EMAIL`)",
        403: "Your role may not take this action",
        404: "No such ticket, or no such action on its workflow",
        409: "The ticket changed since row_version, is closed, or is in another state: "
        "nothing was applied",
        413: "The body is too large",
        422: "Refused: the field at fault is named in error.field",
        503: "The service cannot reach its database; Retry-After says when to try again",
    }
    answers = {str(status): error_answer(described[status]) for status in statuses}
    answers["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    answers["503"]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return answers


SCHEMAS: dict[str, Any] = {
    "QueueTicket": {
        "type": "object",
        "required": [
            "reference",
            "request_type",
            "state",
            "waiting_on",
            "outcome",
            "customer",
            "license_token",
            "assignee",
            "created_at",
            "closed_at",
            "due_at",
            "row_version",
        ],
        "properties": {
            "reference": {"type": "string", "examples": ["LIC-000123"]},
            "request_type": {"type": "string"},
            "state": {"type": "string"},
            "waiting_on": WAITING_ON,
            "outcome": {"type": ["string", "null"], "description": "set once closed"},
            "customer": CUSTOMER,
            "license_token": {"type": ["string", "null"]},
            "assignee": {"type": ["string", "null"], "description": "the assignee's name"},
            "created_at": {"type": "string", "format": "date-time"},
            "closed_at": NULLABLE_TIME,
            "due_at": {**NULLABLE_TIME, "description": "the state's target time"},
            "row_version": {"type": "integer"},
        },
    },
    "Queue": {
        "type": "object",
        "required": ["tickets", "next_after", "counts", "closed_count_cap"],
        "properties": {
            "tickets": {"type": "array", "items": _ref("QueueTicket")},
            "next_after": {
                "type": ["string", "null"],
                "description": "pass as `after` for the next page; null on the last page and "
                "for a search",
            },
            "counts": {
                "type": "object",
                "required": [view.value for view in View],
                "properties": {view.value: {"type": "integer"} for view in View},
            },
            "closed_count_cap": {
                "type": "integer",
                "description": "the closed view's count stops here",
            },
        },
    },
    "Ticket": {
        "type": "object",
        "required": [
            "reference",
            "request_type",
            "workflow",
            "state",
            "waiting_on",
            "outcome",
            "row_version",
            "customer",
            "license_token",
            "assignee",
            "due_at",
            "form",
            "timeline",
            "messages",
            "actions",
        ],
        "properties": {
            "reference": {"type": "string"},
            "request_type": {"type": "string"},
            "workflow": {
                "type": "object",
                "required": ["name", "version"],
                "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
            },
            "state": {"type": "string"},
            "waiting_on": WAITING_ON,
            "outcome": {"type": ["string", "null"]},
            "row_version": {
                "type": "integer",
                "description": "send it back with an action: a stale one is refused with 409",
            },
            "customer": CUSTOMER,
            "license_token": {"type": ["string", "null"]},
            "assignee": {"type": ["string", "null"], "description": "the assignee's email"},
            "due_at": NULLABLE_TIME,
            "form": {"type": "object", "description": "the request's form data"},
            "timeline": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["at", "actor", "actor_name", "kind", "summary"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "actor": {
                            "type": "string",
                            "description": "customer:<email>, staff:<account id>, system or "
                            "timer (rows from before account ids: staff:<email or text>)",
                            "examples": ["staff:3"],
                        },
                        "actor_name": {
                            "type": "string",
                            "description": "who, as the staff page names them: the staff "
                            "account's current name, else the actor's own text",
                            "examples": ["Ada Admin"],
                        },
                        "kind": {"type": "string"},
                        "summary": {"type": "string"},
                    },
                },
            },
            "messages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["direction", "subject", "text", "created_at"],
                    "properties": {
                        "direction": {"enum": ["in", "out"]},
                        "subject": {"type": "string"},
                        "text": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
            "actions": {
                "type": "array",
                "description": "the manual transitions open now",
                "items": {
                    "type": "object",
                    "required": ["name", "label", "role", "fields"],
                    "properties": {
                        "name": {"type": "string"},
                        "label": {"type": "string"},
                        "role": {"type": "string"},
                        "fields": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name", "type", "required"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "type": {"type": "string"},
                                    "required": {"type": "boolean"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "Action": {
        "type": "object",
        "properties": {
            "fields": {
                "type": "object",
                "description": "the fields the action asks for (see the ticket's `actions`)",
            },
            "row_version": {
                "type": ["integer", "null"],
                "description": "the ticket's row_version as read; a stale one gives 409",
            },
        },
        "examples": [{"fields": {"comment": "checked"}, "row_version": 3}],
    },
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _path(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


REFERENCE = _path(
    "reference", "the ticket's reference", {"type": "string", "pattern": REFERENCE_PATTERN}
)
SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]

PATHS: dict[str, Any] = {
    "/api/v1/tickets": {
        "get": {
            "operationId": "list_tickets",
            "summary": "A queue view, a page at a time, or a search",
            "description": "The staff queue's views, oldest first (closed: newest first), "
            "with every view's count. With `q`, tickets by reference, license token, or any "
            "part of the customer's name or email instead, newest first.",
            "tags": ["staff"],
            "security": SECURITY,
            "parameters": [
                _query(
                    "view",
                    "the queue view (default: waiting on staff)",
                    {"enum": [view.value for view in View]},
                ),
                _query(
                    "type", "the request type, for view=type and view=state", {"type": "string"}
                ),
                _query("state", "the workflow state, for view=state", {"type": "string"}),
                _query("after", "the previous page's next_after", {"type": "string"}),
                _query(
                    "q",
                    "search by reference, license token, customer name or email",
                    {"type": "string"},
                ),
            ],
            "responses": {
                "200": _ok("A page of the view (or the search's matches) and the counts", "Queue"),
                **_errors(401, 422, 503),
            },
        }
    },
    "/api/v1/tickets/{reference}": {
        "get": {
            "operationId": "get_ticket",
            "summary": "A ticket with its timeline, messages and the actions open now",
            "tags": ["staff"],
            "security": SECURITY,
            "parameters": [REFERENCE],
            "responses": {"200": _ok("The ticket", "Ticket"), **_errors(401, 404, 503)},
        }
    },
    "/api/v1/tickets/{reference}/actions/{transition}": {
        "post": {
            "operationId": "take_action",
            "summary": "Take a manual action (a transition of the ticket's workflow)",
            "description": "Checked as on the staff page: your role, the fields the action "
            "asks for, and row_version (a ticket that moved on is refused with 409 and "
            "nothing applies). Recorded on the timeline with your name.",
            "tags": ["staff"],
            "security": SECURITY,
            "parameters": [
                REFERENCE,
                _path(
                    "transition",
                    "the action's name, from the ticket's `actions`",
                    {"type": "string"},
                ),
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("Action")}},
            },
            "responses": {
                "200": _ok("The action was taken; the ticket as it is now", "Ticket"),
                **_errors(400, 401, 403, 404, 409, 413, 422, 503),
            },
        }
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    SECURITY_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "a staff member's API token (tbs_…), issued by "
        "`ticketbridge staff api-token EMAIL`",
    }
}
