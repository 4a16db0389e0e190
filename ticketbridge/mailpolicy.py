"""``policy.default`` and ``policy.SMTP`` with the same behaviour and less repeated work.

The email package's header handling dominated both parsing inbound mail and composing
outbound mail: ``HeaderRegistry`` builds a new header class on every lookup, and
``EmailPolicy`` parses a header value from scratch on every read and every write. Parsing
reads each part's Content-Type several times (type, boundary, charset, file name), and every
email we compose sets the same MIME-Version, Content-Type, From and loop-guard headers.
Header classes and parsed header objects are immutable, so one of each can serve every use.
"""

from __future__ import annotations

from email.headerregistry import HeaderRegistry
from email.policy import EmailPolicy
from functools import lru_cache
from typing import Any


class _CachedRegistry(HeaderRegistry):
    """A HeaderRegistry that builds each header name's class once instead of on every lookup."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(key)
        return cls


class MemoPolicy(EmailPolicy):
    """An EmailPolicy that parses each distinct (name, value) header once, for reads and writes."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(header_factory=_CachedRegistry(), **kw)

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if hasattr(value, "name") or not isinstance(value, str):
            return super().header_store_parse(name, value)
        return _stored(self, name, value)

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if hasattr(value, "name"):
            return value
        return _fetched(self, name, value)


@lru_cache(maxsize=1024)
def _stored(policy: MemoPolicy, name: str, value: str) -> tuple[str, Any]:
    return EmailPolicy.header_store_parse(policy, name, value)


@lru_cache(maxsize=1024)
def _fetched(policy: MemoPolicy, name: str, value: str) -> Any:
    return EmailPolicy.header_fetch_parse(policy, name, value)


DEFAULT = MemoPolicy()
"""Behaves as ``email.policy.default``: for parsing inbound mail."""

SMTP = MemoPolicy(linesep="\r\n")
"""Behaves as ``email.policy.SMTP``: for composing outbound mail."""
