"""What a form field is: its type, its choices, its limits and when it is shown.

The workflow loader builds these from YAML (`form: fields:` and a staff action's `fields:`);
R1's common fields are built in `common`. Choices may come from the license catalogue: the
loader resolves them, so by the time a field exists its choices are plain values with labels.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ticketbridge.position import Position

MEBIBYTE = 1024 * 1024


class FieldType(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    TOKEN = "token"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    YESNO = "yesno"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"
    DATE = "date"
    FILE = "file"


CHOICE_TYPES = frozenset({FieldType.CHOICE, FieldType.MULTICHOICE})
LIST_TYPES = frozenset({FieldType.MULTICHOICE, FieldType.FILE})
LENGTH_TYPES = frozenset({FieldType.TEXT, FieldType.TEXTAREA})
DEFAULT_MAX_LENGTH = {FieldType.TEXT: 200, FieldType.TEXTAREA: 10_000}
DEFAULT_MAX_FILES = 5
DEFAULT_MAX_SIZE = 10 * MEBIBYTE


class Condition(Protocol):
    """A field's `when:`: a compiled expression over `form` (the workflow's CEL guards fit)."""

    @property
    def source(self) -> str: ...

    @property
    def position(self) -> Position | None: ...

    def holds(self, variables: Mapping[str, Any]) -> bool: ...

    def form_references(self) -> set[str]: ...


@dataclass(frozen=True)
class Choice:
    """One option of a choice field: the value stored and the words shown."""

    value: str
    label: str


@dataclass(frozen=True)
class Upload:
    """A file as received (multipart form or API), before it is stored."""

    filename: str
    content_type: str
    payload: bytes


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: FieldType
    position: Position
    required: bool = False
    choices: tuple[Choice, ...] = ()
    choices_from: str = ""
    """The catalogue list the choices came from (`plans`, `add_ons`, …), for pages that show it."""
    minimum: int | None = None
    maximum: int | None = None
    """Integers: the largest value; text and textarea: the most characters."""
    max_files: int | None = None
    max_size: int | None = None
    """Files: the most bytes one file may have."""
    help: str = ""
    section: str = ""
    """A heading the page groups consecutive fields of the same section under."""
    when: Condition | None = None
    required_message: str = ""
    """What to say when a required field is missing, where "<label> is required" reads badly."""

    @property
    def max_length(self) -> int | None:
        if self.type not in LENGTH_TYPES:
            return None
        return self.maximum if self.maximum is not None else DEFAULT_MAX_LENGTH[self.type]

    @property
    def file_limits(self) -> tuple[int, int]:
        """How many files, and how many bytes each, a file field accepts."""
        return (
            self.max_files if self.max_files is not None else DEFAULT_MAX_FILES,
            self.max_size if self.max_size is not None else DEFAULT_MAX_SIZE,
        )

    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)


@dataclass(frozen=True)
class FormSpec:
    """A request type's form: R1's common fields are added around `fields` by `common`.

    `checks` name the cross-checks against the license registry that run, once the fields are
    valid, before anything is created (registered in `intake.checks`, resolved at load).
    """

    token_required: bool = True
    token_label: str = ""
    intro: str = ""
    fields: tuple[FormField, ...] = ()
    checks: tuple[str, ...] = ()
