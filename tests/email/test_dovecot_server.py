"""Self-test of the Dovecot fixture: what the IMAP intake relies on really works."""

from __future__ import annotations

import pytest

from tests.fixtures.dovecot import DovecotServer

pytestmark = pytest.mark.imap

FIRST = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: one\r\nMessage-ID: <1@x>\r\n\r\nOne\r\n"
)
SECOND = (
    b"From: c@example.com\r\nTo: b@example.com\r\nSubject: two\r\nMessage-ID: <2@x>\r\n\r\nTwo\r\n"
)


def test_append_then_fetch_back_exact_bytes(imap_mailbox: DovecotServer) -> None:
    assert imap_mailbox.append(FIRST) is not None
    imap_mailbox.append(SECOND)
    client = imap_mailbox.client()
    try:
        assert b"IDLE" in client.capabilities()
        first_validity = client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
        uids = client.search("ALL")
        fetched = client.fetch(uids, ["BODY.PEEK[]"])
        bodies = [fetched[uid][b"BODY[]"] for uid in sorted(fetched)]
        assert bodies == [FIRST, SECOND]
        assert all(b"\\Seen" not in f for f in client.get_flags(uids).values())
        client.unselect_folder()
        assert client.select_folder("INBOX")[b"UIDVALIDITY"] == first_validity
    finally:
        client.logout()


def test_mailbox_starts_empty_and_folders_are_removed(imap_mailbox: DovecotServer) -> None:
    imap_mailbox.append(FIRST, folder="Archive")
    imap_mailbox.clear()
    client = imap_mailbox.client()
    try:
        names = [name for _flags, _sep, name in client.list_folders()]
        assert names == ["INBOX"]
        client.select_folder("INBOX")
        assert client.search("ALL") == []
    finally:
        client.logout()
