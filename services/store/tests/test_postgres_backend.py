"""The ``postgres`` backend from settings: DSN and schema, migrations only when asked."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from switchboard.config import ConfigError, StoreSettings, load_settings
from switchboard.providers import create
from switchboard_store import postgres_db
from switchboard_store.backends import BACKENDS, open_repository
from switchboard_store.postgres_backend import PostgresBackend
from switchboard_store.postgres_repository import PostgresCallRepository

DSN = os.environ.get("SWITCHBOARD_TEST_POSTGRES_DSN") or "postgresql://127.0.0.1:5432/test"


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = f"backend_{uuid.uuid4().hex[:16]}"
    try:
        yield name
    finally:
        conn = await asyncpg.connect(DSN)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()


def test_the_password_comes_from_the_environment_not_the_dsn() -> None:
    settings = load_settings(
        environ={
            "SWITCHBOARD__STORE__BACKEND": "postgres",
            "SWITCHBOARD__STORE__POSTGRES_PASSWORD": "s3cret",
        }
    )
    backend = create(BACKENDS, "postgres", settings.store)
    assert isinstance(backend, PostgresBackend)
    assert backend.options.connect_kwargs()["password"] == "s3cret"
    with pytest.raises(ConfigError, match="POSTGRES_PASSWORD"):
        load_settings(
            environ={"SWITCHBOARD__STORE__POSTGRES_DSN": "postgresql://sb:s3cret@db:5432/sb"}
        )


async def test_migrate_on_start_opens_a_migrated_repository_in_the_configured_schema(
    schema: str,
) -> None:
    settings = StoreSettings(
        backend="postgres", postgres_dsn=DSN, postgres_schema=schema, migrate_on_start=True
    )
    repository = await open_repository(settings)
    try:
        assert isinstance(repository, PostgresCallRepository)
        assert await repository.list_calls() == ([], 0)
    finally:
        await repository.close()


async def test_a_store_on_an_unmigrated_schema_refuses_to_start_naming_the_command(
    schema: str,
) -> None:
    settings = StoreSettings(backend="postgres", postgres_dsn=DSN, postgres_schema=schema)
    with pytest.raises(RuntimeError, match=r"version 0.*switchboard migrate"):
        await open_repository(settings)

    options = postgres_db.ConnectOptions(dsn=DSN, schema=schema)
    applied = await postgres_db.migrate(options)
    assert applied == list(range(1, postgres_db.latest_version() + 1))
    repository = await open_repository(settings)
    await repository.close()
