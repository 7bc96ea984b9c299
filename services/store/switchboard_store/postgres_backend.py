"""The ``postgres`` store backend: a PostgreSQL database shared by every store replica."""

from __future__ import annotations

from switchboard.config import StoreSettings
from switchboard_store.backends import StoreBackend
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.postgres_db import ConnectOptions
from switchboard_store.postgres_repository import PostgresCallRepository
from switchboard_store.repository import CallRepository


class PostgresBackend(StoreBackend):
    """The database at ``store.postgres_dsn`` (password from the environment), tables in
    ``store.postgres_schema``; migrated at open only when ``store.migrate_on_start``."""

    def __init__(self, settings: StoreSettings) -> None:
        self.options = ConnectOptions.from_settings(settings)
        self.migrate_on_start = settings.migrate_on_start
        self.retry = RetryPolicy(
            max_attempts=settings.job_max_attempts, backoff_sec=settings.job_retry_backoff_sec
        )

    async def open(self) -> CallRepository:
        return await PostgresCallRepository.open(
            self.options, None, self.retry, migrate=self.migrate_on_start
        )
