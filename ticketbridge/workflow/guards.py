"""Guards: CEL expressions over the form, the license, the ticket and the clock.

CEL (the common-expression-language package, a Rust implementation) is safe by construction:
no attribute access into Python objects, no loops, no I/O. Expressions are compiled when a
workflow loads, and the variables they may name are fixed, so a typo fails at load time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel

from ticketbridge.errors import WorkflowError

VARIABLES = frozenset({"form", "license", "ticket", "now"})


class GuardSyntaxError(WorkflowError):
    """The expression does not parse, or names a variable guards do not have."""


class GuardEvaluationError(WorkflowError):
    """The expression parsed but failed on this ticket's data (missing key, type mismatch)."""


@dataclass(frozen=True, eq=False)
class Guard:
    source: str
    program: Any

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        try:
            return self.program.execute(dict(context))
        except KeyError as exc:
            raise GuardEvaluationError(f"guard {self.source!r}: no value for {exc.args[0]!r}") from None
        except (TypeError, ValueError, RuntimeError) as exc:
            raise GuardEvaluationError(f"guard {self.source!r}: {exc}") from None

    def holds(self, context: Mapping[str, Any]) -> bool:
        result = self.evaluate(context)
        if not isinstance(result, bool):
            raise GuardEvaluationError(f"guard {self.source!r} gave {result!r}, not true or false")
        return result


def compile_guard(source: str) -> Guard:
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        detail = str(exc).split("\n", 1)[0].removeprefix(f"Failed to parse expression '{source}': ")
        raise GuardSyntaxError(f"guard does not parse: {detail}") from None
    unknown = sorted(set(program.variables()) - VARIABLES)
    if unknown:
        raise GuardSyntaxError(
            f"guard names {', '.join(unknown)}; guards may use only {', '.join(sorted(VARIABLES))}"
        )
    return Guard(source=source, program=program)
