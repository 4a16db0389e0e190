"""Read a submitted HTML form (or a multipart API request) into the validator's raw answers.

Views hand over the request's form and files as they came; which keys are lists (multiple
choices, files) is the fields' business, so it is decided here and nowhere in a view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from ticketbridge.forms.fields import FieldType, FormField, Upload

OCTET_STREAM = "application/octet-stream"


def answers_from(
    fields: Sequence[FormField],
    form: MultiDict[str, str],
    files: MultiDict[str, FileStorage] | None = None,
) -> dict[str, Any]:
    """One raw answer per field present: a list for multiple choices and files, else the text."""
    answers: dict[str, Any] = {}
    for field in fields:
        if field.type == FieldType.FILE:
            answers[field.name] = uploads_from(files, field.name)
        elif field.type == FieldType.MULTICHOICE:
            answers[field.name] = form.getlist(field.name)
        elif field.name in form:
            answers[field.name] = form.get(field.name)
    return answers


def uploads_from(files: MultiDict[str, FileStorage] | None, name: str) -> list[Upload]:
    """The files sent under `name`, read whole; a file input left empty sends no file."""
    return [
        Upload(upload.filename, upload.mimetype or OCTET_STREAM, upload.read())
        for upload in (files.getlist(name) if files is not None else [])
        if upload.filename
    ]
