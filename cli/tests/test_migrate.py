"""``switchboard migrate``: the store database brought to this release's schema, then exit."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from switchboard_cli import cli

DSN = os.environ.get("SWITCHBOARD_TEST_POSTGRES_DSN") or "postgresql://127.0.0.1:5432/test"


async def _drop_schema(name: str) -> None:
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
def postgres_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    schema = f"cli_{uuid.uuid4().hex[:16]}"
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("SWITCHBOARD__STORE__POSTGRES_DSN", DSN)
    monkeypatch.setenv("SWITCHBOARD__STORE__POSTGRES_SCHEMA", schema)
    try:
        yield schema
    finally:
        asyncio.run(_drop_schema(schema))


def test_migrate_applies_pending_versions_then_reports_the_schema_current(
    postgres_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate", "--store", "postgres", "--to", "1"]) == 0
    assert "applied [1]" in capsys.readouterr().out
    assert cli.main(["migrate", "--store", "postgres"]) == 0
    assert "applied [2]" in capsys.readouterr().out
    assert cli.main(["migrate", "--store", "postgres"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_migrate_reports_an_unreachable_database_and_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(tmp_path / "none.yaml"))
    # Port 9 (discard) has no PostgreSQL behind it on loopback.
    monkeypatch.setenv("SWITCHBOARD__STORE__POSTGRES_DSN", "postgresql://127.0.0.1:9/none")
    assert cli.main(["migrate", "--store", "postgres"]) == 1
    assert "Could not migrate the postgres store" in capsys.readouterr().out


def test_migrate_creates_and_migrates_the_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "var" / "store.db"
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("SWITCHBOARD__STORE__SQLITE_PATH", str(path))
    assert cli.main(["migrate"]) == 0
    assert path.exists() and "applied [1, 2]" in capsys.readouterr().out
