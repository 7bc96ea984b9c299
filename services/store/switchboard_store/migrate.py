"""``switchboard migrate``: bring the configured store database to this release's schema.

Run before new store replicas start (the Helm chart's pre-install/pre-upgrade Job). On
PostgreSQL a missing database is created first when the role may; on SQLite the file
is created and migrated, as the store itself would at start; on Cosmos DB the database
and containers are created and the pending layout versions applied.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from switchboard.config import StoreSettings
from switchboard_store import postgres_db
from switchboard_store.sqlite_db import SqliteDatabase

log = logging.getLogger(__name__)


class MigrationError(RuntimeError):
    """The database refused: a failing migration, a refused login, a missing role."""


async def migrate(settings: StoreSettings, upto: int | None = None) -> list[int]:
    """Applies the pending migrations of ``settings.backend``; returns the versions applied.

    Raises OSError (unreachable), ValueError (bad settings) or :class:`MigrationError`.
    """
    if settings.backend == "cosmos":
        return await _migrate_cosmos(settings, upto)
    try:
        return await _migrate(settings, upto)
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise MigrationError(f"{type(exc).__name__}: {exc}") from exc


async def _migrate_cosmos(settings: StoreSettings, upto: int | None) -> list[int]:
    # Imported here: azure-cosmos is an optional extra (requirements-azure.txt).
    from azure.cosmos import exceptions

    from switchboard_store import cosmos_db

    try:
        return await cosmos_db.migrate(cosmos_db.CosmosOptions.from_settings(settings), upto)
    except exceptions.CosmosHttpResponseError as exc:
        raise MigrationError(f"Cosmos DB answered {exc.status_code}: {exc.reason}") from exc


async def _migrate(settings: StoreSettings, upto: int | None) -> list[int]:
    if settings.backend == "sqlite":
        if upto is not None:
            raise ValueError("--to applies to the postgres backend only")
        db = SqliteDatabase(Path(settings.sqlite_path))
        try:
            return await db.open()
        finally:
            await db.close()
    options = postgres_db.ConnectOptions.from_settings(settings)
    try:
        return await postgres_db.migrate(options, upto)
    except asyncpg.InvalidCatalogNameError:
        await create_database(options)
        return await postgres_db.migrate(options, upto)


async def create_database(options: postgres_db.ConnectOptions) -> None:
    """Creates the DSN's database, connected to the server's ``postgres`` database."""
    parts = urlsplit(options.dsn)
    name = parts.path.lstrip("/")
    if not name or '"' in name:
        raise ValueError("postgres_dsn must name its database, e.g. postgresql://host:5432/sb")
    admin = postgres_db.ConnectOptions(
        dsn=urlunsplit(parts._replace(path="/postgres")), password=options.password
    )
    conn = await postgres_db.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    log.info("database created", extra={"database": name})
