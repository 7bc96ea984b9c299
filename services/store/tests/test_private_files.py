"""The database holds personal data: its files are readable by their owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard_store.sqlite_repository import SqliteCallRepository


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """A process started with a permissive umask, as a shell might start it."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("lax_umask")
async def test_a_new_database_its_wal_and_its_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "store.db"
    repository = await SqliteCallRepository.open(path)
    try:
        assert mode(path.parent) == 0o700
        for name in ("store.db", "store.db-wal", "store.db-shm"):
            assert mode(path.parent / name) == 0o600, name
    finally:
        await repository.close()


@pytest.mark.usefixtures("lax_umask")
async def test_a_database_left_world_readable_is_made_private_on_open(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.touch(mode=0o644)
    path.chmod(0o644)

    repository = await SqliteCallRepository.open(path)
    try:
        assert mode(path) == 0o600
    finally:
        await repository.close()
