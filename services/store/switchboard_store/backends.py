"""The store's database seam: ``store.backend`` names a backend, the registry builds it.

A backend is given its settings section and opens (and migrates) into a
:class:`~switchboard_store.repository.CallRepository`: ``sqlite`` (the embedded
default), ``postgres`` or ``cosmos`` (Azure Cosmos DB for NoSQL).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from switchboard.config import StoreSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_store.repository import CallRepository


class StoreBackend(ABC):
    """A database the store can run on."""

    @abstractmethod
    async def open(self) -> CallRepository:
        """Connects, applies pending migrations and returns the repository."""


BACKENDS = Seam(
    "store.backend",
    StoreBackend,
    {
        "sqlite": Vendor("switchboard_store.sqlite_backend:SqliteBackend", section=""),
        "postgres": Vendor("switchboard_store.postgres_backend:PostgresBackend", section=""),
        "cosmos": Vendor(
            "switchboard_store.cosmos_backend:CosmosBackend", "requirements-azure.txt", section=""
        ),
    },
)


async def open_repository(settings: StoreSettings) -> CallRepository:
    """The repository of the configured backend, open and migrated."""
    return await create(BACKENDS, settings.backend, settings).open()
