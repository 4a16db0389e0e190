"""Signed links and reply addresses: what lets a customer reach one ticket and nothing else.

The customer page link carries the ticket id signed with the secret key (itsdangerous), so it
cannot be guessed or altered; the Reply-To address carries the reference and a short MAC so a
reply can be threaded by its address alone without anyone forging one for another ticket.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeSerializer

TICKET_LINK_SALT = "ticketbridge.customer-ticket-link"
REPLY_TOKEN_SALT = b"ticketbridge.reply-address"
REPLY_MAC_LENGTH = 10


class Links:
    def __init__(self, secret_key: str, public_url: str, reply_domain: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=TICKET_LINK_SALT)
        self._reply_key = hmac.new(secret_key.encode(), REPLY_TOKEN_SALT, hashlib.sha256).digest()
        self.public_url = public_url.rstrip("/")
        self.reply_domain = reply_domain

    def ticket_token(self, ticket_id: int) -> str:
        return self._serializer.dumps(ticket_id)

    def ticket_id_from_token(self, token: str) -> int | None:
        """The ticket id of a link we issued, spelled exactly as we issued it.

        Base64 lets several spellings decode to the same bytes (padding, the unused low bits of
        the last character); only the one we wrote is accepted, so a link is one string."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        canonical = self.ticket_token(value).encode()
        return value if hmac.compare_digest(token.encode(), canonical) else None

    def ticket_url(self, ticket_id: int) -> str:
        return f"{self.public_url}/t/{self.ticket_token(ticket_id)}"

    def reply_address(self, reference: str) -> str:
        return f"support+{reference}.{self._reply_mac(reference)}@{self.reply_domain}"

    def reference_from_reply_address(self, address: str) -> str | None:
        """The ticket reference named by a support+REF.MAC@ address, if its MAC is ours."""
        local, _, domain = address.strip().lower().rpartition("@")
        if domain != self.reply_domain.lower() or "+" not in local:
            return None
        reference, _, mac = local.split("+", 1)[1].rpartition(".")
        reference = reference.upper()
        return reference if hmac.compare_digest(mac, self._reply_mac(reference)) else None

    def _reply_mac(self, reference: str) -> str:
        digest = hmac.new(self._reply_key, reference.upper().encode(), hashlib.sha256).hexdigest()
        return digest[:REPLY_MAC_LENGTH]
