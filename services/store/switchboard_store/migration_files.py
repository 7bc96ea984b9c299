"""The numbered SQL migration files packaged with a backend, in order."""

from __future__ import annotations

import re
from importlib import resources

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def packaged_migrations(package: str) -> list[tuple[int, str, str]]:
    """``(version, file name, sql)`` of every ``NNNN_what.sql`` in ``package``, in order.

    Raises RuntimeError when the numbers are not 1, 2, 3… without gaps.
    """
    found = []
    for entry in resources.files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1, 2, 3… without gaps; found {versions}")
    return found
