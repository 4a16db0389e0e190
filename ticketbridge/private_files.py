"""Folders and files only the service's own user may read.

The instance folder holds the secret key, the SQLite database, outgoing mail, customers'
attachments and license signing keys: each is created owner-only (0700 folders, 0600 files)
whatever the umask, so another account on the machine never reads them.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Create `path`, and each missing folder above it, owner-only; an existing folder is kept as
    the operator made it."""
    missing = [folder for folder in (path, *path.parents) if not folder.is_dir()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise NotADirectoryError(20, "Not a directory", str(folder)) from None
            continue
        os.chmod(folder, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty and owner-only if it is not there yet (before a library such as SQLite
    creates it with the umask's mode)."""
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return path
