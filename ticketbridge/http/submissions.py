"""Submission ids: a request form sent twice (double click, reload, back and Send) makes one
ticket, and nobody can reach another customer's ticket through this.

The form page carries a server-issued id signed for that request type. The key a ticket is
stored under is an HMAC of the request type, that id and the whole content sent (fields and
files), never a value the client chose: the same submission again finds its own ticket; a
changed answer, another form's id or a forged one finds nothing and opens a new ticket.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from ticketbridge.forms.fields import Upload

SALT = "ticketbridge.submission-id"


class Submissions:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=SALT)
        self._key = hmac.new(secret_key.encode(), SALT.encode(), hashlib.sha256).digest()

    def issue(self, request_type: str) -> str:
        """A fresh id for one rendering of `request_type`'s form."""
        return self._serializer.dumps([request_type, uuid.uuid4().hex])

    def is_valid(self, request_type: str, submission_id: str) -> bool:
        return self._nonce(request_type, submission_id) is not None

    def key(self, request_type: str, submission_id: str, answers: dict[str, Any]) -> str | None:
        """The ticket's dedupe key for this exact submission; None for an id we did not issue
        for this form."""
        nonce = self._nonce(request_type, submission_id)
        return None if nonce is None else self._mac(request_type, nonce, answers)

    def api_key(self, request_type: str, idempotency_key: str, answers: dict[str, Any]) -> str:
        """The API's `Idempotency-Key` is the client's own nonce: bound the same way to the
        request type and content, a retry finds its ticket and a known key finds no other."""
        return self._mac(request_type, f"api:{idempotency_key}", answers)

    def _mac(self, request_type: str, nonce: str, answers: dict[str, Any]) -> str:
        content = json.dumps([request_type, nonce, answers], sort_keys=True, default=_digest)
        return hmac.new(self._key, content.encode(), hashlib.sha256).hexdigest()

    def _nonce(self, request_type: str, submission_id: str) -> str | None:
        try:
            issued_for, nonce = self._serializer.loads(submission_id)
        except (BadSignature, ValueError, TypeError):
            return None
        return str(nonce) if issued_for == request_type else None


def _digest(value: object) -> list[str]:
    if isinstance(value, Upload):
        return [value.filename, value.content_type, hashlib.sha256(value.payload).hexdigest()]
    raise TypeError(f"cannot fingerprint {type(value).__name__}")
