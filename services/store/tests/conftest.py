"""Fixtures of the store's tests: a repository on a fresh SQLite file and a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard import domain
from switchboard_store.sqlite_repository import SqliteCallRepository
from switchboard_testing.clock import VirtualClock

START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def make_request(
    phone_number: str = "+14155550100", task: str = "Collect the incident details.", **extra: object
) -> domain.CallRequest:
    """A valid outbound request with a three-field claim schema."""
    fields = {
        "bot_company": "Contoso",
        "bot_name": "Amélie",
        "phone_number": phone_number,
        "agent_phone_number": "+14155550199",
        "task": task,
        "claim": (
            domain.ClaimField(name="incident_date", type=domain.ClaimFieldType.DATETIME),
            domain.ClaimField(name="email", type=domain.ClaimFieldType.EMAIL),
            domain.ClaimField(name="description", type=domain.ClaimFieldType.TEXT),
        ),
        **extra,
    }
    return domain.CallRequest.model_validate(fields)


@pytest.fixture(name="make_request")
def make_request_fixture() -> object:
    """Tests import nothing from here (importlib mode), so the factory is a fixture."""
    return make_request


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "store.db"


@pytest.fixture
async def repo(db_path: Path, clock: VirtualClock) -> AsyncIterator[SqliteCallRepository]:
    repository = await SqliteCallRepository.open(db_path, clock)
    try:
        yield repository
    finally:
        await repository.close()
