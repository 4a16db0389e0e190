"""A workflow as a Mermaid state diagram: text the admin page renders and a review can diff."""

from __future__ import annotations

from ticketbridge.workflow.definitions import Transition, TriggerKind, Workflow


def trigger_label(transition: Transition) -> str:
    """What starts the transition, as staff would say it: "manual (admin): Approve", "timer: after 7
    days"."""
    trigger = transition.trigger
    match trigger.kind:
        case TriggerKind.MANUAL:
            text = f"manual ({trigger.role}): {trigger.label}"
        case TriggerKind.TIMER if trigger.after is not None:
            text = f"timer: after {_duration(trigger.after.total_seconds())}"
        case TriggerKind.TIMER:
            at = trigger.calendar or trigger.at
            text = f"timer: at {at.source if at else '?'}"
        case TriggerKind.LICENSE_SYNCED:
            text = "the server synced the license"
        case TriggerKind.CUSTOMER_REPLY:
            text = "customer reply"
        case _:
            text = "automatic"
    return text + (f" [{transition.guard.source}]" if transition.guard else "")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds // 60)} minutes"


def _escape(text: str) -> str:
    """Mermaid labels cannot hold '#', ';' or '"' as they are; they take its entity codes."""
    return text.replace("#", "#35;").replace(";", "#59;").replace('"', "#quot;")


def mermaid(workflow: Workflow) -> str:
    lines = [
        "stateDiagram-v2",
        f"    %% {workflow.name} version {workflow.version}",
        f"    [*] --> {workflow.initial}",
    ]
    for state in workflow.states.values():
        detail = f"outcome: {state.outcome}" if state.is_final else f"waits on {state.waits_on}"
        lines.append(f"    {state.name} : {_escape(detail)}")
    for transition in workflow.transitions:
        lines.append(
            f"    {transition.source} --> {transition.target} : "
            f"{_escape(f'{transition.name} — {trigger_label(transition)}')}"
        )
    for state in workflow.states.values():
        if state.is_final:
            lines.append(f"    {state.name} --> [*]")
    return "\n".join(lines) + "\n"
