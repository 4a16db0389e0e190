"""Text that reaches an outgoing header is data, never header syntax.

A customer's name, a subject built from what they typed, an attachment's file name: each is
decoded exactly once where it enters (the inbound parser decodes encoded words; a form gives
plain text), and from then on it must not be read as syntax again. The email package reads
`=?utf-8?q?...?=` in a value it is given as an encoded word and decodes it, and the CPython on
our machines (3.11.7, CVE-2024-6923) then writes a decoded CR LF raw into the header: a new
Reply-To, a Bcc, a second body. So every such value passes through `header_text`.
"""

from __future__ import annotations

import unicodedata

ENCODED_WORD_OPENER = "=?"
NAME_LENGTH = 200
"""The longest display name kept: a customer's name as stored, and as written into a header."""
_BREAKING_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
"""Controls (CR, LF, NUL, NEL...), lone surrogates left by undecodable bytes, U+2028, U+2029."""
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Direction overrides, which make a name display as something else than it is."""


def header_text(value: str, *, limit: int | None = None) -> str:
    """`value` as one line of plain text: breaking characters become spaces, runs of white space
    one space, and `=?` is written `= ?` so nothing can decode it a second time.

    `limit` cuts the result to that many characters (a column's size).
    """
    spaced = "".join(
        " " if ch in _BIDI_CONTROLS or unicodedata.category(ch) in _BREAKING_CATEGORIES else ch
        for ch in value
    )
    text = " ".join(spaced.split()).replace(ENCODED_WORD_OPENER, "= ?")
    return text[:limit].rstrip() if limit is not None else text
