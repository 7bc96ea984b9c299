"""The ``sqlite`` store backend: one file, no server (the embedded default)."""

from __future__ import annotations

from pathlib import Path

from switchboard.config import StoreSettings
from switchboard_store.backends import StoreBackend
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.repository import CallRepository
from switchboard_store.sqlite_repository import SqliteCallRepository


class SqliteBackend(StoreBackend):
    """The database file at ``store.sqlite_path``; post-call jobs retried as ``store.job_*``."""

    def __init__(self, settings: StoreSettings) -> None:
        self.path = Path(settings.sqlite_path)
        self.retry = RetryPolicy(
            max_attempts=settings.job_max_attempts, backoff_sec=settings.job_retry_backoff_sec
        )

    async def open(self) -> CallRepository:
        return await SqliteCallRepository.open(self.path, None, self.retry)
