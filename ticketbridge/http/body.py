"""Reading a JSON body a client sent, within bounds, after the client was authenticated.

The limit holds for bodies sent without Content-Length (chunked) too; nesting is bounded
before anything recurses over it (a body of 4,000 `[` made `json.loads` raise RecursionError);
a NUL anywhere is refused because no database text column can hold it.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import marshmallow
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

MAX_DEPTH = 16


def read_json_object(max_bytes: int, *, example: str) -> dict[str, Any]:
    """The body as a JSON object, or a 400/413 that says what would be accepted."""
    request.max_content_length = max_bytes + 1
    if (request.content_length or 0) > max_bytes or len(request.get_data()) > max_bytes:
        raise RequestEntityTooLarge(f"The body is larger than {max_bytes} bytes.")
    try:
        body = json.loads(request.get_data())
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        _refuse(f"send a JSON object: {example}")
    problem = _structure_problem(body)
    if problem:
        _refuse(problem)
    return body


def _structure_problem(body: dict[str, Any]) -> str | None:
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, str) and "\x00" in value:
            return "contains a NUL character (\\u0000), which no text can hold"
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return None


def _refuse(message: str) -> NoReturn:
    raise marshmallow.ValidationError({"body": [message]})
