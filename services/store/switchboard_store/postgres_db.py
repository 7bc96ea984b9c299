"""PostgreSQL from asyncio: an asyncpg connection pool and the schema migrations.

Every connection of the pool has ``search_path`` set to the configured schema, so the
SQL names tables unqualified and a test (or a side-by-side install) can live in a
schema of its own. A write is one transaction on one pooled connection; its
``COMMIT`` has returned (and, with PostgreSQL's default ``synchronous_commit = on``,
the WAL is flushed) before the repository method returns.

Migrations are the numbered files of ``switchboard_store/postgres_migrations``, each
applied in its own transaction under ``pg_advisory_xact_lock`` and recorded in
``schema_version``: two replicas (or a Helm Job and a store started with
``migrate_on_start``) migrating at once apply every file exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import asyncpg

from switchboard.config import StoreSettings
from switchboard_store.migration_files import packaged_migrations

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "switchboard_store.postgres_migrations"
# An arbitrary fixed key: every migrator of this database takes the same lock.
MIGRATION_LOCK_KEY = 0x5357_4D49_4752_4154


def migrations() -> list[tuple[int, str, str]]:
    """``(version, file name, sql)`` of every packaged PostgreSQL migration, in order."""
    return packaged_migrations(MIGRATIONS_PACKAGE)


def latest_version() -> int:
    return len(migrations())


@dataclass(frozen=True)
class ConnectOptions:
    """Where the database is and which schema the store's tables are in."""

    dsn: str
    password: str = ""
    schema: str = "public"
    pool_min: int = 1
    pool_max: int = 10

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> ConnectOptions:
        return cls(
            dsn=settings.postgres_dsn,
            password=settings.postgres_password,
            schema=settings.postgres_schema,
            pool_min=settings.postgres_pool_min,
            pool_max=settings.postgres_pool_max,
        )

    def connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "dsn": self.dsn,
            "server_settings": {
                "search_path": self.schema,
                "application_name": "switchboard",
                # JSON renders times in the session's zone; UTC keeps them comparable.
                "TimeZone": "UTC",
            },
        }
        if self.password:
            kwargs["password"] = self.password
        return kwargs


async def connect(options: ConnectOptions) -> asyncpg.Connection:
    """One connection (migrations, tooling); the store itself uses :func:`create_pool`."""
    return await asyncpg.connect(**options.connect_kwargs())


async def create_pool(options: ConnectOptions) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        min_size=min(options.pool_min, options.pool_max),
        max_size=options.pool_max,
        **options.connect_kwargs(),
    )
    if pool is None:  # only when created without awaiting; never here
        raise RuntimeError("asyncpg returned no pool")
    return pool


def _quoted(schema: str) -> str:
    # StoreSettings restricts the schema to [a-z_][a-z0-9_]*; quoting keeps it exact.
    return '"' + schema.replace('"', '""') + '"'


async def current_version(conn: asyncpg.Connection, schema: str) -> int:
    """The newest applied migration in ``schema``; 0 for an empty database."""
    exists = await conn.fetchval("SELECT to_regclass($1)", f"{_quoted(schema)}.schema_version")
    if exists is None:
        return 0
    version: int = await conn.fetchval(
        f"SELECT COALESCE(MAX(version), 0) FROM {_quoted(schema)}.schema_version"
    )
    return version


async def apply_migrations(
    conn: asyncpg.Connection, schema: str, upto: int | None = None
) -> list[int]:
    """Applies the migrations newer than the schema (up to ``upto`` when given).

    Each file and its ``schema_version`` row commit together under the advisory lock;
    the version is read again after the lock is taken, so a concurrent migrator that
    got there first leaves nothing to do. Returns the versions applied here.
    """
    applied: list[int] = []
    for version, name, sql in migrations():
        if upto is not None and version > upto:
            break
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_quoted(schema)}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_quoted(schema)}.schema_version ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            if version <= await current_version(conn, schema):
                continue
            await conn.execute(f"SET LOCAL search_path TO {_quoted(schema)}")
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_version (version, name) VALUES ($1, $2)", version, name
            )
        log.info("schema migrated", extra={"version": version, "migration": name})
        applied.append(version)
    return applied


async def migrate(options: ConnectOptions, upto: int | None = None) -> list[int]:
    """Connects, applies the pending migrations and disconnects (``switchboard migrate``)."""
    conn = await connect(options)
    try:
        return await apply_migrations(conn, options.schema, upto)
    finally:
        await conn.close()


async def check_current(pool: asyncpg.Pool, schema: str) -> None:
    """Raises RuntimeError when the schema is behind (or ahead of) this release."""
    async with pool.acquire() as conn:
        found = await current_version(conn, schema)
    wanted = latest_version()
    if found < wanted:
        raise RuntimeError(
            f"the PostgreSQL schema {schema!r} is at version {found}, this store needs {wanted}: "
            "run `switchboard migrate` (or set store.migrate_on_start)"
        )
    if found > wanted:
        raise RuntimeError(
            f"the PostgreSQL schema {schema!r} is at version {found}, newer than this "
            f"release knows ({wanted}); deploy the newer store"
        )
