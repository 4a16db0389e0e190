"""Exactly-once keys for inbound mail: the Message-ID, or a content hash where it cannot serve.

The hash covers what the author wrote (the body and the author's own headers) and leaves out
what each delivery adds (Received, Delivered-To, Return-Path, X-*), so the same message
delivered twice, or copied to a second folder, hashes the same.
"""

from __future__ import annotations

import hashlib
import re

_AUTHOR_HEADERS = (
    b"message-id",
    b"date",
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"in-reply-to",
    b"references",
)
_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")
_FOLDING_RE = re.compile(rb"\r?\n[ \t]+")
_WHITESPACE_RE = re.compile(rb"\s+")


def stable_hash(raw: bytes) -> str:
    match = _HEADER_END_RE.search(raw)
    head, body = (raw[: match.start()], raw[match.end() :]) if match else (raw, b"")
    digest = hashlib.sha256()
    for line in _FOLDING_RE.sub(b" ", head).splitlines():
        name, _, value = line.partition(b":")
        if name.strip().lower() in _AUTHOR_HEADERS:
            digest.update(
                name.strip().lower() + b":" + _WHITESPACE_RE.sub(b" ", value.strip()) + b"\n"
            )
    digest.update(b"\n" + body.replace(b"\r\n", b"\n").rstrip())
    return digest.hexdigest()


def message_id_key(message_id: str) -> str:
    return f"mid:{message_id}"


def hash_key(content_hash: str) -> str:
    return f"hash:{content_hash}"


def dedupe_key(message_id: str | None, content_hash: str, known: dict[str, str]) -> str | None:
    """The key to store this message under, or None when it is already stored.

    `known` maps keys already stored (in this mailbox) to their content hashes. A Message-ID
    stored with other content was reused by a careless sender: that message then goes by its
    content hash instead.
    """
    if message_id:
        key = message_id_key(message_id)
        if key not in known:
            return key
        if known[key] == content_hash:
            return None
    key = hash_key(content_hash)
    return None if key in known else key
