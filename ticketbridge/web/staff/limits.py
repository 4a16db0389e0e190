"""The rate limiter of the staff pages: failed sign-ins per client address.

Counters live in Redis when the service runs on Redis (so every web process shares them) and
in memory on the embedded default, where there is one web process.
"""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])
