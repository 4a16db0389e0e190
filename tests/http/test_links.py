"""Issue 8 item 10: a ticket link is accepted in the one spelling we issued, and capability
links never reach a log whole."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from ticketbridge.http.redact import redact
from ticketbridge.links import TICKET_LINK_SALT, Links

SECRET = "test-secret-key-0123456789"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def other_spellings(token: str) -> list[str]:
    """Spellings of the same signed bytes: the last character's unused bits, added padding."""
    last = ALPHABET.index(token[-1])
    return [token[:-1] + ALPHABET[last ^ bit] for bit in (1, 2)] + [token + "="]


def test_a_ticket_link_accepts_only_the_spelling_we_issued() -> None:
    links = Links(SECRET, "http://tickets.test", "tickets.test")
    token = links.ticket_token(42)
    assert links.ticket_id_from_token(token) == 42
    plain = URLSafeSerializer(SECRET, salt=TICKET_LINK_SALT)
    variants = [v for v in other_spellings(token) if plain.loads(v, return_header=False) == 42]
    assert variants, "the serializer alone accepts other spellings of the link"
    assert [links.ticket_id_from_token(v) for v in variants] == [None] * len(variants)


@pytest.mark.parametrize(
    "line",
    [
        "GET /t/NDI.Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXU HTTP/1.1",
        "GET /%74/NDI.Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXU HTTP/1.1",
        "GET /t%2FNDI.Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXU/messages HTTP/1.1",
        "http://tickets.test/t/NDI.Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXU?sent=1",
    ],
)
def test_a_capability_link_is_cut_from_log_lines_in_any_spelling(line: str) -> None:
    cut = redact(line)
    assert "Zm9vYmFyYmF6" not in cut and "/t/NDI.<redacted>" in cut


def test_other_paths_are_logged_as_they_are() -> None:
    assert redact("GET /requests/demo?x=%20 HTTP/1.1") == "GET /requests/demo?x=%20 HTTP/1.1"
