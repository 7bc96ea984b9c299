"""The store's database comes from the shared registry, by ``store.backend``."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.config import ConfigError, StoreSettings
from switchboard.providers import Vendor, create
from switchboard_store.backends import BACKENDS, open_repository
from switchboard_store.sqlite_backend import SqliteBackend
from switchboard_store.sqlite_repository import SqliteCallRepository


def test_the_sqlite_backend_takes_the_job_retries_from_its_settings() -> None:
    backend = create(BACKENDS, "sqlite", StoreSettings(job_max_attempts=7))
    assert isinstance(backend, SqliteBackend)
    assert backend.retry.max_attempts == 7


async def test_the_sqlite_backend_opens_the_file_named_in_its_settings(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    repository = await open_repository(StoreSettings(sqlite_path=str(path)))
    try:
        assert isinstance(repository, SqliteCallRepository)
        assert path.exists()
    finally:
        await repository.close()


def test_an_unknown_backend_lists_the_choices() -> None:
    with pytest.raises(
        ConfigError, match=r"store.backend: unknown provider 'mysql'; choose one of "
    ):
        create(BACKENDS, "mysql", StoreSettings())


def test_a_backend_without_its_sdk_names_the_extra() -> None:
    seam = BACKENDS.adding(
        "cosmos", Vendor("no_such_vendor_sdk.cosmos:Cosmos", "requirements-azure.txt")
    )
    with pytest.raises(
        ConfigError, match=r"no_such_vendor_sdk.*pip install -r requirements-azure.txt"
    ):
        create(seam, "cosmos", StoreSettings())
