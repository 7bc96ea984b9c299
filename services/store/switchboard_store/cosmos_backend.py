"""The ``cosmos`` store backend: an Azure Cosmos DB (NoSQL) database shared by every replica."""

from __future__ import annotations

from switchboard.config import StoreSettings
from switchboard_store.backends import StoreBackend
from switchboard_store.cosmos_db import CosmosOptions
from switchboard_store.cosmos_repository import CosmosCallRepository
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.repository import CallRepository


class CosmosBackend(StoreBackend):
    """The database ``store.cosmos.database`` of the account at ``store.cosmos.endpoint``
    (key from the environment); its layout applied at open only when ``store.migrate_on_start``."""

    def __init__(self, settings: StoreSettings) -> None:
        self.options = CosmosOptions.from_settings(settings)
        self.migrate_on_start = settings.migrate_on_start
        self.retry = RetryPolicy(
            max_attempts=settings.job_max_attempts, backoff_sec=settings.job_retry_backoff_sec
        )

    async def open(self) -> CallRepository:
        return await CosmosCallRepository.open(
            self.options, None, self.retry, migrate=self.migrate_on_start
        )
