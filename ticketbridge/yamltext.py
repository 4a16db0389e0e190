"""YAML text to nodes at libyaml's speed, with PyYAML's error messages.

Every process loads the workflows folder and the catalogue at start, and PyYAML's pure-Python
parser takes about a tenth of a second per workflow file: most of a short command's start. The
C parser PyYAML wraps (libyaml) builds the same nodes, with the same marks, ten times faster,
but words its errors differently; text it refuses is parsed again by the Python parser, so a
mistake is reported in the same words, at the same line and column, either way.
"""

from __future__ import annotations

import yaml

_FAST: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FAILURES = (yaml.YAMLError, ValueError)


def compose(text: str) -> yaml.Node | None:
    """The document's node tree (None when empty); raises PyYAML's MarkedYAMLError."""
    try:
        return yaml.compose(text, Loader=_FAST)
    except _FAILURES:
        return yaml.compose(text, Loader=yaml.SafeLoader)


def tag_tokens(text: str) -> list[yaml.TagToken]:
    """Every explicit tag written in the text, with its position."""
    try:
        tokens = list(yaml.scan(text, Loader=_FAST))
    except _FAILURES:
        tokens = list(yaml.scan(text, Loader=yaml.SafeLoader))
    return [token for token in tokens if isinstance(token, yaml.TagToken)]
