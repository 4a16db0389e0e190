"""The steps this installation offers: importing a step module registers its steps."""

from __future__ import annotations

from ticketbridge.steps import licenses, requests
from ticketbridge.steps.registry import StepRegistry, registry

MODULES = (licenses, requests)


def load() -> StepRegistry:
    """The registry, filled by the step modules imported above."""
    return registry
