"""Files holding personal data are readable by their owner only.

The SQLite database (with its ``-wal`` and ``-shm``), saved reports, the local API
key and log files hold phone numbers, transcripts and claims. Every service and the
CLI call :func:`restrict_new_files` at start-up, so whatever they create is 0600
(directories 0700) whatever umask they were started with; :func:`make_private`
tightens what an earlier, laxer run left behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO

# New files 0600, new directories 0700.
PRIVATE_UMASK = 0o077
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def restrict_new_files() -> None:
    """Sets the process umask so that files it creates are private to its user."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Creates ``path`` (and missing parents) 0700, and tightens it if it exists."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    make_private(path)
    return path


def make_private(*paths: Path) -> None:
    """chmod 0600 (files) or 0700 (directories) those of ``paths`` that exist and are
    ours; a path gone or owned by someone else is left as it is."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            mode = PRIVATE_DIR_MODE if stat.S_ISDIR(path.stat().st_mode) else PRIVATE_FILE_MODE
            path.chmod(mode)


def open_private_log(path: Path) -> IO[bytes]:
    """``path`` opened for appending, created 0600 and tightened if it was not."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return os.fdopen(descriptor, "ab")
