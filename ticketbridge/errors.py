"""One exception hierarchy. Web, API and CLI map these to messages in one place each.

A `TicketbridgeError` carries a message a customer or operator can read; `field` names the
form field, setting or header at fault when there is one.
"""

from __future__ import annotations


class TicketbridgeError(Exception):
    """Root of every error the service reports to a person instead of a traceback."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigError(TicketbridgeError):
    """An invalid setting: start-up stops with one line naming it."""


class ValidationError(TicketbridgeError):
    """Input that breaks a rule; `errors` maps each field at fault to its messages."""

    http_status = 422

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first_field, messages = next(iter(errors.items()))
        super().__init__(f"{first_field}: {messages[0]}", field=first_field)
        self.errors = errors


class NotFound(TicketbridgeError):
    http_status = 404


class Conflict(TicketbridgeError):
    """The request collides with the current state (already processed, raced, refused)."""

    http_status = 409


class RuleViolation(TicketbridgeError):
    """A licensing rule of DOMAIN.md (R1-R20) forbids the change; `rule` names it."""

    http_status = 422

    def __init__(self, rule: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.rule = rule


class WorkflowError(TicketbridgeError):
    """A workflow definition or run that cannot proceed."""


class StepError(WorkflowError):
    """An automatic step failed; the transition is rolled back and retried."""


class DeliveryError(TicketbridgeError):
    """Sending an email failed; `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class ServiceUnavailable(TicketbridgeError):
    """A service the process needs (database, Redis, IMAP, SMTP) is unreachable or refused it.

    `setting` names what an operator checks; the message says what went wrong and what to do, and
    starts with the setting so the CLI line reads `Error: TICKETBRIDGE_REDIS_URL: …`.
    """

    http_status = 503

    def __init__(self, message: str, *, setting: str) -> None:
        super().__init__(f"{setting}: {message}", field=setting)
        self.setting = setting


class UnsafeHeader(TicketbridgeError):
    """An outgoing header that would not parse back as written (an injection): never sent."""
