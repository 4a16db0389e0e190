"""The one validator: raw answers in, clean JSON-ready values out, or every mistake at once.

Answers arrive as form text (web pages, `--set` on the command line), as typed JSON (the API,
`workflows simulate`) or as uploads; each field type accepts both spellings and gives one
clean value. Fields are read in page order, so a field's `when:` sees the clean answers above
it: a field that is not shown is never required, and whatever was sent for it is dropped.
Every cleaned form has every field's key (None, [] or False when unanswered or hidden), so
guards and templates never meet a missing key; once its files are stored it is plain JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ticketbridge.errors import TicketbridgeError, ValidationError
from ticketbridge.forms.fields import FieldType, FormField, Upload

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
TOKEN_RULE = "8 to 128 letters, digits, '-' or '_'"
WHOLE_NUMBER = re.compile(r"^[+-]?\d{1,18}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
FILENAME_MAX = 255

StoreUploads = Callable[[tuple[Upload, ...]], list[dict[str, Any]]]
"""Keeps a field's files somewhere and returns what the form records of each."""


class FieldError(Exception):
    """One field's answer is not acceptable; the message is shown at the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def describe_uploads(uploads: tuple[Upload, ...]) -> list[dict[str, Any]]:
    """What a form keeps of its files when they are not stored: name, type, size and hash."""
    return [
        {
            "name": upload.filename,
            "content_type": upload.content_type,
            "size": len(upload.payload),
            "sha256": hashlib.sha256(upload.payload).hexdigest(),
        }
        for upload in uploads
    ]


def validate_fields(fields: Sequence[FormField], data: Mapping[str, Any]) -> dict[str, Any]:
    """The clean answers to `fields` (keys not among them are ignored), or ValidationError
    naming every field at fault. File fields hold their `Upload`s until `with_stored_files`."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in fields:
        if not _shown(field, fields, cleaned):
            cleaned[field.name] = empty_value(field)
            continue
        try:
            cleaned[field.name] = clean_value(field, data.get(field.name))
        except FieldError as exc:
            errors[field.name] = [exc.message]
            cleaned[field.name] = empty_value(field)
    if errors:
        raise ValidationError(errors)
    return cleaned


def with_stored_files(
    fields: Sequence[FormField], cleaned: Mapping[str, Any], store: StoreUploads = describe_uploads
) -> dict[str, Any]:
    """The clean answers with each file field's uploads kept by `store`: the caller does this
    once nothing else can refuse the form, so a refused form leaves no files behind."""
    stored = dict(cleaned)
    for field in fields:
        if field.type == FieldType.FILE and stored[field.name]:
            stored[field.name] = store(tuple(stored[field.name]))
    return stored


def shown_fields(fields: Sequence[FormField], answers: Mapping[str, Any]) -> set[str]:
    """The names of the fields shown for these clean answers (pages and the API say which)."""
    return {f.name for f in fields if _shown(f, fields, answers)}


def _shown(field: FormField, fields: Sequence[FormField], cleaned: Mapping[str, Any]) -> bool:
    """A `when` that cannot be evaluated (an answer it reads is missing or wrong) hides the
    field: its condition is not met by anything the customer said."""
    if field.when is None:
        return True
    form = {f.name: empty_value(f) for f in fields} | dict(cleaned)
    try:
        return field.when.holds({"form": form})
    except TicketbridgeError:
        return False


def empty_value(field: FormField) -> Any:
    if field.type in (FieldType.MULTICHOICE, FieldType.FILE):
        return []
    if field.type == FieldType.BOOLEAN:
        return False
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_value(field: FormField, value: Any) -> Any:
    """One field's clean answer; raises FieldError saying what it accepts."""
    if field.type in (FieldType.MULTICHOICE, FieldType.FILE):
        items = list(value) if isinstance(value, list | tuple) else [value]
        value = [item for item in items if not _blank(item)]
        if not value:
            return _missing(field)
        return CONVERTERS[field.type](field, value)
    if _blank(value):
        return _missing(field)
    answer = CONVERTERS[field.type](field, value)
    if field.type == FieldType.BOOLEAN and field.required and not answer:
        return _missing(field)
    return answer


def _missing(field: FormField) -> Any:
    if field.required:
        raise FieldError(field.required_message or f"{field.label} is required")
    return empty_value(field)


def _explained(field: FormField, message: str) -> str:
    return f"{message} — {field.help}" if field.help else message


def _string(field: FormField, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldError(f"{field.label} must be text")
    if CONTROL.search(value):
        raise FieldError(f"{field.label} must not contain control characters")
    return value


def _length(field: FormField, text: str) -> str:
    limit = field.max_length
    if limit is not None and len(text) > limit:
        raise FieldError(f"{field.label} must be at most {limit} characters, not {len(text)}")
    return text


def _text(field: FormField, value: Any) -> str:
    """One line: runs of spaces and line breaks become one space (names reach mail headers)."""
    return _length(field, " ".join(_string(field, value).split()))


def _textarea(field: FormField, value: Any) -> str:
    text = _string(field, value).replace("\r\n", "\n").replace("\r", "\n").strip()
    return _length(field, text)


def _email(field: FormField, value: Any) -> str:
    """An address every SMTP server carries, in that form (an IDNA domain as xn--): a non-ASCII
    part before the @ needs SMTPUTF8, which we cannot count on, so it is refused here."""
    try:
        checked = validate_email(
            _string(field, value).strip(), check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError as exc:
        raise FieldError(f"not a valid email address: {exc}") from None
    return str(checked.ascii_email)


def _token(field: FormField, value: Any) -> str:
    token = _string(field, value).strip()
    if not TOKEN_PATTERN.match(token):
        raise FieldError(f"not a license token: {field.help or TOKEN_RULE}")
    return token


def _integer(field: FormField, value: Any) -> int:
    if isinstance(value, bool):
        raise FieldError(f"{field.label} must be a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and WHOLE_NUMBER.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise FieldError(f"{field.label} must be a whole number")
    if field.minimum is not None and value < field.minimum:
        raise FieldError(_explained(field, f"{field.label} must be at least {field.minimum}"))
    if field.maximum is not None and value > field.maximum:
        raise FieldError(_explained(field, f"{field.label} must be at most {field.maximum}"))
    return value


def _truth(field: FormField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise FieldError(f"{field.label}: answer yes or no")


def _choice(field: FormField, value: Any) -> str:
    if not isinstance(value, str) or value not in field.choice_values():
        raise FieldError(f"{field.label} must be one of: {', '.join(field.choice_values())}")
    return value


def _choices(field: FormField, values: list[Any]) -> list[str]:
    unknown = [v for v in values if not isinstance(v, str) or v not in field.choice_values()]
    if unknown:
        raise FieldError(
            f"{field.label}: {', '.join(map(str, unknown))} not among "
            f"{', '.join(field.choice_values())}"
        )
    return list(dict.fromkeys(values))


def _date(field: FormField, value: Any) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise FieldError(f"{field.label} must be a date, YYYY-MM-DD") from None


def _files(field: FormField, values: list[Any]) -> list[Upload]:
    if not all(isinstance(v, Upload) for v in values):
        raise FieldError(f"{field.label}: send files as multipart/form-data uploads")
    most, largest = field.file_limits
    if len(values) > most:
        raise FieldError(f"{field.label}: at most {most} files, not {len(values)}")
    uploads = []
    for upload in values:
        name = PurePosixPath(upload.filename.replace("\\", "/")).name[:FILENAME_MAX] or "file"
        if len(upload.payload) > largest:
            raise FieldError(
                f"{field.label}: {name} has {len(upload.payload):,} bytes; each file may have "
                f"at most {largest:,}"
            )
        uploads.append(Upload(name, upload.content_type, upload.payload))
    return uploads


CONVERTERS: Mapping[FieldType, Callable[[FormField, Any], Any]] = {
    FieldType.TEXT: _text,
    FieldType.TEXTAREA: _textarea,
    FieldType.EMAIL: _email,
    FieldType.TOKEN: _token,
    FieldType.INTEGER: _integer,
    FieldType.BOOLEAN: _truth,
    FieldType.YESNO: _truth,
    FieldType.CHOICE: _choice,
    FieldType.MULTICHOICE: _choices,
    FieldType.DATE: _date,
    FieldType.FILE: _files,
}
