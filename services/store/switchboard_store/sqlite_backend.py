"""The ``sqlite`` store backend: one file, no server (the embedded default)."""

from __future__ import annotations

from pathlib import Path

from switchboard.config import StoreSettings
from switchboard_store.backends import StoreBackend
from switchboard_store.repository import CallRepository
from switchboard_store.sqlite_repository import SqliteCallRepository


class SqliteBackend(StoreBackend):
    """The database file at ``store.sqlite_path``."""

    def __init__(self, settings: StoreSettings) -> None:
        self.path = Path(settings.sqlite_path)

    async def open(self) -> CallRepository:
        return await SqliteCallRepository.open(self.path)
