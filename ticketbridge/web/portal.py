"""The license portal's menu: the seven entries customers know, two of them a question first.

"Request new activation" asks whether the request is for the 30-day demo (YES: the demo form,
NO: the plan form); "Modify existing license" asks for the action (Add, Remove, Deactivate).
The answer is a plain GET form, so the choice works without JavaScript. Request types without
a workflow in force are left out: of the menu, and of a question's answers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    request_type: str


@dataclass(frozen=True)
class Question:
    """A page asking one question whose answer picks the request form."""

    slug: str
    title: str
    question: str
    options: tuple[Option, ...]
    intro: str = ""

    def request_type(self, answer: str) -> str | None:
        return next((o.request_type for o in self.options if o.value == answer), None)

    def offered(self, installed: set[str]) -> tuple[Option, ...]:
        return tuple(o for o in self.options if o.request_type in installed)


@dataclass(frozen=True)
class Entry:
    title: str
    request_type: str = ""
    question: Question | None = None

    def request_types(self) -> tuple[str, ...]:
        if self.question is not None:
            return tuple(o.request_type for o in self.question.options)
        return (self.request_type,)

    @property
    def slug(self) -> str:
        return self.question.slug if self.question is not None else self.request_type


ACTIVATION = Question(
    "activation",
    "Request new activation",
    "Are you requesting a 30-day free demo?",
    (Option("yes", "Yes", "demo"), Option("no", "No", "plan")),
    "Use this while your server token is not active yet: a free 30-day demo, or a license "
    "plan for a new billed server.",
)
MODIFY = Question(
    "modify",
    "Modify existing license",
    "Action request",
    (
        Option(
            "add", "Add: raise agents, users, telephones, mobile agents, add-ons or plugins", "add"
        ),
        Option("remove", "Remove: lower them, or remove add-ons or plugins", "remove"),
        Option("deactivate", "Deactivate the license of this server", "deactivate"),
    ),
    "Change the license of an active server: give the new totals you want, not the difference.",
)
MENU = (
    Entry("Request new activation", question=ACTIVATION),
    Entry("Modify existing license", question=MODIFY),
    Entry("Request contract change", "contract"),
    Entry("Grace period / re-activate license", "grace"),
    Entry("General request", "general"),
    Entry("Key-based activation", "key"),
    Entry("Feature update", "feature"),
)
QUESTIONS = {entry.question.slug: entry.question for entry in MENU if entry.question}


def menu(installed: set[str]) -> list[Entry]:
    """The entries with at least one request type in force."""
    return [e for e in MENU if set(e.request_types()) & installed]
