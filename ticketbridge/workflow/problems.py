"""A complaint about a workflow file, and the error that carries all of them.

Kept apart from the loader so the graph checks and the CLI speak the same format:
`file:line:column: what is wrong — how to mend it`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ticketbridge.errors import WorkflowError
from ticketbridge.position import Position


@dataclass(frozen=True)
class Problem:
    position: Position
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.position}: {self.message}" + (f" — {self.hint}" if self.hint else "")


class WorkflowLoadError(WorkflowError):
    """Every problem found in one or more workflow files, each with its position."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
