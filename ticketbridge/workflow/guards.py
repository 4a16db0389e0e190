"""Guards: CEL expressions over the form, the license, the ticket and the clock.

CEL (the common-expression-language package, a Rust implementation) is safe by construction:
no attribute access into Python objects, no loops, no I/O. Expressions are compiled when a
workflow loads, and the variables they may name are fixed, so a typo fails at load time.

A few calendar helpers are added because CEL has no month arithmetic, and timers need "the
1st of next month" or "the last day of the month" (billing, R11/R12):
`date("2024-05-31")`, `first_of_next_month(ts)`, `last_day_of_month(ts)`, all in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ticketbridge.errors import WorkflowError
from ticketbridge.position import Position

# The package's __init__ also imports its command-line REPL (typer, rich, prompt_toolkit,
# pygments): about a second and 20 MB at the start of every process, for nothing a guard uses.
# An empty stand-in for that one submodule keeps it out; the expression engine is untouched.
sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))
import cel  # noqa: E402 - after the stand-in above

VARIABLES = frozenset({"form", "license", "ticket", "now"})
# The CEL library parses and evaluates by recursion on the native stack: a 15,000-term sum
# overflows it and kills the process (SIGSEGV), which no Python handler can catch. Guards are a
# line or two of logic; these limits keep any expression two orders of magnitude below that.
MAX_GUARD_CHARACTERS = 1000
MAX_GUARD_NESTING = 24
OPENING, CLOSING = "([{", ")]}"
EXCERPT_CHARACTERS = 60
CEL_SYNTAX_ERROR = re.compile(r"<input>:(\d+):(\d+): (.*)")
FORM_REFERENCE = re.compile(r"""\bform\s*(?:\.\s*(\w+)|\[\s*["'](\w+)["']\s*\])""")


class GuardSyntaxError(WorkflowError):
    """The expression does not parse, or names a variable guards do not have."""


class GuardEvaluationError(WorkflowError):
    """The expression parsed but failed on this ticket's data (missing key, type mismatch)."""


def _date(value: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(value[:10]), dt.time(), dt.UTC)


def _first_of_next_month(value: dt.datetime) -> dt.datetime:
    year, month = (value.year + 1, 1) if value.month == 12 else (value.year, value.month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def _last_day_of_month(value: dt.datetime) -> dt.datetime:
    return _first_of_next_month(value) - dt.timedelta(days=1)


HELPERS: Mapping[str, Callable[..., Any]] = {
    "date": _date,
    "first_of_next_month": _first_of_next_month,
    "last_day_of_month": _last_day_of_month,
}


@dataclass(frozen=True, eq=False)
class Guard:
    source: str
    program: Any
    position: Position | None = None

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        context = cel.Context(dict(variables))
        for name, function in HELPERS.items():
            context.add_function(name, function)
        try:
            return self.program.execute(context)
        except KeyError as exc:
            raise GuardEvaluationError(
                f"guard {self.source!r}: no value for {exc.args[0]!r}"
            ) from None
        except (TypeError, ValueError, RuntimeError) as exc:
            raise GuardEvaluationError(f"guard {self.source!r}: {exc}") from None

    def holds(self, variables: Mapping[str, Any]) -> bool:
        result = self.evaluate(variables)
        if not isinstance(result, bool):
            raise GuardEvaluationError(f"guard {self.source!r} gave {result!r}, not true or false")
        return result

    def instant(self, variables: Mapping[str, Any]) -> dt.datetime:
        """Evaluate a timer's `at:` expression; it must give a timestamp (naive ones are read as
        UTC)."""
        result = self.evaluate(variables)
        if not isinstance(result, dt.datetime):
            raise GuardEvaluationError(
                f"timer {self.source!r} gave {result!r}, not a timestamp; wrap it in "
                "timestamp(...) or date(...)"
            )
        return result if result.tzinfo else result.replace(tzinfo=dt.UTC)

    def form_references(self) -> set[str]:
        """The form keys the expression reads (`form.x`, `form["x"]`); CEL's own references stop at
        `form`."""
        return {dotted or indexed for dotted, indexed in FORM_REFERENCE.findall(self.source)}


def _syntax_detail(error: str) -> str:
    """CEL's first complaint, without its echo of the expression or its long list of expected
    tokens."""
    match = CEL_SYNTAX_ERROR.search(error)
    if match is None:
        return error.split("\n", 1)[0]
    return f"{match.group(3).split(' expecting ', 1)[0]} at character {match.group(2)}"


def excerpt(source: str) -> str:
    """An expression as a message quotes it: whole when short, its start when not."""
    return source if len(source) <= EXCERPT_CHARACTERS else source[:EXCERPT_CHARACTERS] + "…"


def _nesting(source: str) -> int:
    """The deepest bracket nesting of `source`, brackets inside string literals not counted."""
    depth = deepest = 0
    quote = ""
    escaped = False
    for char in source:
        if quote:
            escaped, closes = (not escaped and char == "\\"), (not escaped and char == quote)
            quote = "" if closes else quote
        elif char in "'\"":
            quote = char
        elif char in OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif char in CLOSING:
            depth -= 1
    return deepest


def _check_size(source: str) -> None:
    """Refuse, before the CEL library sees it, an expression big or deep enough to endanger it."""
    if len(source) > MAX_GUARD_CHARACTERS:
        raise GuardSyntaxError(
            f"is {len(source)} characters long, more than the {MAX_GUARD_CHARACTERS} allowed; "
            "split the condition (e.g. over several transitions or form fields)"
        )
    if _nesting(source) > MAX_GUARD_NESTING:
        raise GuardSyntaxError(
            f"nests brackets more than {MAX_GUARD_NESTING} deep; write it flatter"
        )


def compile_guard(source: str, position: Position | None = None) -> Guard:
    _check_size(source)
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        raise GuardSyntaxError(f"does not parse: {_syntax_detail(str(exc))}") from None
    unknown = sorted(set(program.variables()) - VARIABLES - set(HELPERS))
    if unknown:
        raise GuardSyntaxError(
            f"names {', '.join(unknown)}; expressions may use only {', '.join(sorted(VARIABLES))}"
        )
    return Guard(source=source, program=program, position=position)
