"""``policy.default`` and ``policy.SMTP`` with the same behaviour and less repeated work.

The email package's header handling dominated both parsing inbound mail and composing
outbound mail: ``HeaderRegistry`` builds a new header class on every lookup, and
``EmailPolicy`` parses a header value from scratch on every read and every write. Parsing
reads each part's Content-Type several times (type, boundary, charset, file name), and every
email we compose sets the same MIME-Version, Content-Type, From and loop-guard headers.
Header classes and parsed header objects are immutable, so one of each can serve every use.

Every header the writing policies (``SMTP``, ``SMTPUTF8``) fold is checked the way
``verify_generated_headers`` does on the interpreters that have it (3.11.10+, 3.12.5+; ours,
3.11.7, has neither the option nor the fix for CVE-2024-6923): a folded header whose line
breaks are not all followed by white space, or that carries a NUL, would start a header or a
body of its own, and raises ``UnsafeHeader`` instead of being written. The check is ours, so
it holds on any interpreter.
"""

from __future__ import annotations

import re
from email.headerregistry import HeaderRegistry
from email.policy import EmailPolicy
from functools import lru_cache
from typing import Any

from ticketbridge.errors import UnsafeHeader

_BREAK_WITHOUT_FOLDING_SPACE = re.compile(r"\r\n[^ \t]|\r[^ \n\t]|\n[^ \t]|\r$|\n$|\x00")


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


class WritingPolicy(MemoPolicy):
    """A MemoPolicy for the mail we write: refuses a header that would not parse back."""

    def fold(self, name: str, value: Any) -> str:
        return _verified(name, super().fold(name, value), self.linesep)

    def fold_binary(self, name: str, value: Any) -> bytes:
        folded = super().fold_binary(name, value)
        _verified(name, folded.decode("ascii", "surrogateescape"), self.linesep)
        return folded


def _verified(name: str, folded: str, linesep: str) -> str:
    """`folded` when it is one header that parses back as written; UnsafeHeader otherwise."""
    if not folded.endswith(linesep) or _BREAK_WITHOUT_FOLDING_SPACE.search(
        folded.removesuffix(linesep)
    ):
        raise UnsafeHeader(f"the {name} header would not parse back as written: {folded!r}")
    return folded


@lru_cache(maxsize=1024)
def _stored(policy: MemoPolicy, name: str, value: str) -> tuple[str, Any]:
    return EmailPolicy.header_store_parse(policy, name, value)


@lru_cache(maxsize=1024)
def _fetched(policy: MemoPolicy, name: str, value: str) -> Any:
    return EmailPolicy.header_fetch_parse(policy, name, value)


DEFAULT = MemoPolicy()
"""Behaves as ``email.policy.default``: for parsing inbound mail."""

WRITTEN_LINE_LENGTH = 998
"""RFC 5322's limit. The email package folds a long quoted display name into an unquoted one
(`"a@b...c" <x@y>` comes out as `a@b...c <x@y>`, another address), so we do not ask it to fold
below the limit: a 200-character name and any address fit on one line."""

SMTP = WritingPolicy(linesep="\r\n", max_line_length=WRITTEN_LINE_LENGTH)
"""Behaves as ``email.policy.SMTP``: for composing outbound mail."""

SMTPUTF8 = WritingPolicy(linesep="\r\n", max_line_length=WRITTEN_LINE_LENGTH, utf8=True)
"""Behaves as ``email.policy.SMTPUTF8``: for mail to an address only SMTPUTF8 can carry."""
