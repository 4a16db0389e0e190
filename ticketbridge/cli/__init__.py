"""The `ticketbridge` command, one module per command group (see root.py)."""

from ticketbridge.cli.root import main

__all__ = ["main"]
