"""Exactly-once keys for inbound mail: the Message-ID, or the whole raw bytes where it cannot serve.

Two hashes with two jobs. The *author hash* (`stable_hash`) covers what the author wrote (the
body and the author's own headers) and leaves out what each delivery adds (Received,
Delivered-To, X-*): a Message-ID seen again with the same author hash is the same message
delivered again, and one seen with another is a careless sender reusing it. The *raw hash*
(`ParsedEmail.content_hash`, of every byte) is the key of a mail with no usable Message-ID. It
used to be the author hash, and a mail with no Message-ID and no Date whose From, To, Subject
and body equalled an earlier one's was dropped as its duplicate (issue 12). Separate
deliveries differ in their bytes (each server adds its Received line), so only a true re-fetch
— the same bytes again, after a UIDVALIDITY reset or from a copy in another folder — is a
duplicate; the row keeps the folder, UIDVALIDITY and UID each copy came from.
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


def raw_key(raw_hash: str) -> str:
    return f"raw:{raw_hash}"


def dedupe_key(
    message_id: str | None, author_hash: str, raw_hash: str, known: dict[str, str]
) -> str | None:
    """The key to store this message under, or None when it is already stored.

    `known` maps keys already stored (in this mailbox) to their author hashes. A Message-ID
    stored with another author hash was reused by a careless sender: that message then goes by
    its raw hash instead.
    """
    if message_id:
        key = message_id_key(message_id)
        if key not in known:
            return key
        if known[key] == author_hash:
            return None
    key = raw_key(raw_hash)
    return None if key in known else key
