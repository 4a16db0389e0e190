"""The one source of "now", always timezone-aware UTC, so timers and billing compare like with
like."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
