"""Hypothesis profiles: CI replays a fixed set of examples, so its verdict cannot flicker; a
developer's run explores new ones (and keeps failures in .hypothesis/ to replay them)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")
