"""Store inbound attachments as files under the instance folder, named by their content hash.

Content addressing makes a write idempotent: a batch that is rolled back and fetched again
writes the same file to the same name, and a file left by a rolled-back batch is just an
unreferenced copy, never a wrong one. The message row keeps the names customers gave.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ticketbridge.intake.email.parse import Attachment
from ticketbridge.private_files import private_folder

FOLDER = "attachments"


def store_attachments(
    instance_path: Path, attachments: tuple[Attachment, ...]
) -> list[dict[str, Any]]:
    """Write each payload once; return what Message.attachments records for each."""
    stored = []
    for number, attachment in enumerate(attachments, start=1):
        digest = hashlib.sha256(attachment.payload).hexdigest()
        path = attachment_path(instance_path, digest)
        if not path.exists():
            private_folder(path.parent)
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(attachment.payload)
            partial.replace(path)
        stored.append(
            {
                "name": attachment.filename or f"attachment-{number}",
                "content_type": attachment.content_type,
                "size": len(attachment.payload),
                "sha256": digest,
            }
        )
    return stored


def attachment_path(instance_path: Path, digest: str) -> Path:
    return instance_path / FOLDER / digest[:2] / digest
