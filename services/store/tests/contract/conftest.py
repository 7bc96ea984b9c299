"""The repository contract: every test in this folder runs once per store backend.

``store`` is a fresh, empty database of one backend — a SQLite file in the test's
temporary folder, a PostgreSQL schema of its own in the database named by
``SWITCHBOARD_TEST_POSTGRES_DSN`` (default: ``test`` on 127.0.0.1:5432, which
``make test`` starts when it is down), dropped after the test, or a fresh fake Cosmos DB
account (:mod:`switchboard_testing.fake_cosmos`) driven by the real ``azure-cosmos`` SDK.
``repo`` is a repository open on it; ``store.open()`` opens more (a restart, a second
replica).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from switchboard.clock import Clock
from switchboard_store import cosmos_db, postgres_db, sqlite_db
from switchboard_store.cosmos_db import CosmosOptions
from switchboard_store.cosmos_repository import CosmosCallRepository
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.postgres_db import ConnectOptions
from switchboard_store.postgres_repository import PostgresCallRepository
from switchboard_store.repository import CallRepository
from switchboard_store.sqlite_repository import SqliteCallRepository
from switchboard_testing.clock import VirtualClock
from switchboard_testing.fake_cosmos import FakeCosmos

POSTGRES_DSN_ENV = "SWITCHBOARD_TEST_POSTGRES_DSN"
DEFAULT_POSTGRES_DSN = "postgresql://127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres", "cosmos")
# A call as the previous schema version stored it (before the newest migration).
OLD_CALL_COLUMNS = (
    "(call_id, created_at, updated_at, direction, state, phone_number, initiate_json)"
)
OLD_STAMP = "2026-03-03T09:00:00.000000+00:00"


def postgres_dsn() -> str:
    return os.environ.get(POSTGRES_DSN_ENV) or DEFAULT_POSTGRES_DSN


class StoreUnderTest:
    """One empty test database of one backend, and the repositories opened on it."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.path = tmp_path / "var" / "store.db"
        self.options = ConnectOptions(
            dsn=postgres_dsn(), schema=f"contract_{uuid.uuid4().hex[:16]}", pool_max=12
        )
        self._opened: list[CallRepository] = []
        self.cosmos = FakeCosmos(tmp_path / "fake-cosmos") if backend == "cosmos" else None

    @property
    def cosmos_options(self) -> CosmosOptions:
        assert self.cosmos is not None
        return CosmosOptions(self.cosmos.endpoint, self.cosmos.key, "contract")

    async def start(self) -> None:
        if self.cosmos is not None:
            await self.cosmos.start()

    async def open(self, clock: Clock, retry: RetryPolicy | None = None) -> CallRepository:
        """A repository on this database, migrated to the newest version."""
        repo: CallRepository
        if self.backend == "sqlite":
            repo = await SqliteCallRepository.open(self.path, clock, retry)
        elif self.backend == "cosmos":
            repo = await CosmosCallRepository.open(self.cosmos_options, clock, retry, migrate=True)
        else:
            repo = await PostgresCallRepository.open(self.options, clock, retry, migrate=True)
        self._opened.append(repo)
        return repo

    async def migrate(self, upto: int | None = None) -> list[int]:
        """Applies the backend's migrations (up to ``upto``) without opening a repository."""
        if self.backend == "postgres":
            return await postgres_db.migrate(self.options, upto)
        if self.backend == "cosmos":
            return await cosmos_db.migrate(self.cosmos_options, upto)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            return sqlite_db.apply_migrations(conn, upto)
        finally:
            conn.close()

    async def insert_previous_version_call(self, call_id: str, request_json: str) -> None:
        """Stores an in-progress call of +14155550100 as the previous version did."""
        if self.backend == "cosmos":
            await self._insert_previous_cosmos_call(call_id, request_json)
        elif self.backend == "postgres":
            await self.execute(
                f"INSERT INTO calls {OLD_CALL_COLUMNS} VALUES ($1, '2026-03-03T09:00:00Z',"
                " '2026-03-03T09:00:00Z', 'outbound', 'in_progress', '+14155550100', $2)",
                call_id,
                request_json,
            )
        else:
            await self.execute(
                f"INSERT INTO calls {OLD_CALL_COLUMNS} VALUES (?, '{OLD_STAMP}', '{OLD_STAMP}',"
                " 'outbound', 'in_progress', '+14155550100', ?)",
                call_id,
                request_json,
            )

    async def _insert_previous_cosmos_call(self, call_id: str, request_json: str) -> None:
        # Layout version 1: the call's partition only, no calls_by_number entry yet.
        stamp = OLD_STAMP
        call = {
            "id": call_id, "call_id": call_id, "type": "call", "created_at": stamp,
            "created_key": f"{stamp}#{0:020d}", "updated_at": stamp, "direction": "outbound",
            "state": "in_progress", "state_reason": "", "phone_number": "+14155550100",
            "initiate_json": request_json, "attempt": 1, "lang": "", "policy_state": "",
            "last_interaction_at": None, "synthesis_json": "", "next_action_json": "",
            "sms_summary": "", "synthesis_job": "", "claim": {}, "reminders": [], "turns": {},
            "message_seq": 0, "event_seq": 0, "outbox": [], "outbox_pending": False,
        }  # fmt: skip
        client = await cosmos_db.connect(self.cosmos_options)
        try:
            calls = client.get_database_client("contract").get_container_client(cosmos_db.CALLS)
            await calls.create_item(call)
        finally:
            await client.close()

    async def execute(self, sql: str, *args: object) -> None:
        """Raw SQL on the test database (``?`` placeholders on SQLite, ``$n`` on PostgreSQL)."""
        if self.backend == "postgres":
            conn = await postgres_db.connect(self.options)
            try:
                await conn.execute(sql, *args)
            finally:
                await conn.close()
            return
        conn3 = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn3.execute(sql, args)
        finally:
            conn3.close()

    async def versions(self) -> list[int]:
        """The migrations recorded as applied, in order."""
        if self.backend == "cosmos":
            client = await cosmos_db.connect(self.cosmos_options)
            try:
                return await cosmos_db.recorded_versions(client.get_database_client("contract"))
            finally:
                await client.close()
        if self.backend == "postgres":
            conn = await postgres_db.connect(self.options)
            try:
                found = await conn.fetch("SELECT version FROM schema_version ORDER BY version")
            finally:
                await conn.close()
            return [r["version"] for r in found]
        conn3 = sqlite3.connect(self.path)
        try:
            return [r[0] for r in conn3.execute("SELECT version FROM schema_version ORDER BY 1")]
        finally:
            conn3.close()

    def latest_version(self) -> int:
        if self.backend == "cosmos":
            return cosmos_db.latest_version()
        if self.backend == "postgres":
            return postgres_db.latest_version()
        return len(sqlite_db.migrations())

    async def drop(self) -> None:
        for repo in self._opened:
            await repo.close()
        if self.cosmos is not None:
            await self.cosmos.stop()
        if self.backend == "postgres":
            conn = await asyncpg.connect(self.options.dsn)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{self.options.schema}" CASCADE')
            finally:
                await conn.close()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreUnderTest]:
    database = StoreUnderTest(request.param, tmp_path)
    await database.start()
    try:
        yield database
    finally:
        await database.drop()


@pytest.fixture
async def repo(store: StoreUnderTest, clock: VirtualClock) -> CallRepository:
    return await store.open(clock)
