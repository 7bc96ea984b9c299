"""Schema migrations: applied once, in order, each in a transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from switchboard_store import sqlite_db
from switchboard_store.sqlite_db import SqliteDatabase, apply_migrations


async def test_a_new_database_gets_every_migration_and_wal_mode(db_path: Path) -> None:
    db = SqliteDatabase(db_path)
    applied = await db.open()
    await db.close()

    assert applied == [v for v, _, _ in sqlite_db.migrations()]
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == applied
    conn.close()


async def test_reopening_the_database_applies_nothing_twice(db_path: Path) -> None:
    first = SqliteDatabase(db_path)
    await first.open()
    await first.close()

    second = SqliteDatabase(db_path)
    assert await second.open() == []
    await second.close()


def test_a_failing_migration_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = (1, "0001_good.sql", "CREATE TABLE kept (x INTEGER);")
    bad = (2, "0002_bad.sql", "CREATE TABLE half (x INTEGER); INSERT INTO missing VALUES (1);")
    monkeypatch.setattr(sqlite_db, "migrations", lambda: [good, bad])
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)

    with pytest.raises(sqlite3.OperationalError):
        apply_migrations(conn)

    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "kept" in tables
    assert "half" not in tables
    assert [r[0] for r in conn.execute("SELECT version FROM schema_version")] == [1]
    assert not conn.in_transaction
    conn.close()


def test_packaged_migrations_are_numbered_without_gaps() -> None:
    versions = [v for v, _, _ in sqlite_db.migrations()]
    assert versions == list(range(1, len(versions) + 1))
