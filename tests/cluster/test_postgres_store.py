"""The five services with the store on the local PostgreSQL: the demo, end to end.

What an operator does: ``switchboard migrate`` (the Helm pre-install Job), the services
with ``SWITCHBOARD__STORE__BACKEND=postgres`` (``switchboard run --store postgres``),
then ``switchboard simulate scenarios/demo.yaml``. The call, its transcript and claim
must be in PostgreSQL. Each run uses a schema of its own in the test database
(``SWITCHBOARD_TEST_POSTGRES_DSN``, default ``test`` on 127.0.0.1), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from switchboard_cli.launcher import GRPC_SERVICES, Cluster, ClusterPorts
from switchboard_cli.scenario import claim_mismatches
from switchboard_store import postgres_db
from tests.cluster.harness import FIXED_NOW, started_cluster

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "scenarios" / "demo.yaml"
DSN = os.environ.get("SWITCHBOARD_TEST_POSTGRES_DSN") or "postgresql://127.0.0.1:5432/test"


def _query(schema: str, sql: str, *args: object) -> list[Any]:
    async def fetch() -> list[Any]:
        conn = await asyncpg.connect(DSN, server_settings={"search_path": schema})
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(fetch())


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard_cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def store_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    schema = f"cluster_{uuid.uuid4().hex[:16]}"
    root = tmp_path_factory.mktemp("postgres-cluster")
    env = {
        "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),  # no file: pure defaults
        "SWITCHBOARD__STORE__BACKEND": "postgres",
        "SWITCHBOARD__STORE__POSTGRES_DSN": DSN,
        "SWITCHBOARD__STORE__POSTGRES_SCHEMA": schema,
    }
    try:
        yield env
    finally:
        _query("public", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def postgres_cluster(
    store_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    migrated = _cli(["migrate"], store_env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    every = [version for version, _name, _sql in postgres_db.migrations()]
    assert f"applied {every}" in migrated.stdout
    root = tmp_path_factory.mktemp("postgres-cluster-logs")
    with started_cluster(root, store_env) as cluster:
        yield cluster


def test_the_demo_simulated_against_postgres_stores_its_whole_claim_there(
    postgres_cluster: Cluster, store_env: dict[str, str]
) -> None:
    ports = postgres_cluster.ports
    simulated = _cli(
        ["simulate", str(DEMO)],
        {
            **store_env,
            "SWITCHBOARD_API_KEY": postgres_cluster.api_key,
            "SWITCHBOARD__GATEWAY__PORT": str(ports.gateway),
            "SWITCHBOARD__SERVICES__DIALER": ports.grpc_address("dialer"),
            "SWITCHBOARD__SERVICES__SPEECH": ports.grpc_address("speech"),
            "SWITCHBOARD__SERVICES__STORE": ports.grpc_address("store"),
            "SWITCHBOARD__SERVICES__BRAIN": ports.grpc_address("brain"),
        },
    )

    assert simulated.returncode == 0, simulated.stdout + simulated.stderr
    assert "Expected claim: matches" in simulated.stdout
    schema = store_env["SWITCHBOARD__STORE__POSTGRES_SCHEMA"]
    [call] = _query(schema, "SELECT call_id, state FROM calls")
    assert call["state"] == "ended"
    stored = {
        r["field"]: r["value"]
        for r in _query(schema, "SELECT field, value FROM claim_values WHERE call_id = $1", call[0])
    }
    scenario = yaml.safe_load(DEMO.read_text())
    assert claim_mismatches(scenario["expect_claim"], stored) == []
    [said] = _query(schema, "SELECT count(*) AS n FROM messages WHERE call_id = $1", call[0])
    assert said["n"] >= 2 * len(scenario["customer"])


def test_switchboard_run_with_store_postgres_migrates_and_serves_the_demo(
    tmp_path: Path,
) -> None:
    """``switchboard run --store postgres`` as an operator types it, then ``simulate``."""
    schema = f"run_{uuid.uuid4().hex[:16]}"
    ports = ClusterPorts.free()
    env = {
        **os.environ,
        "SWITCHBOARD_CONFIG": str(tmp_path / "switchboard.yaml"),  # no file: pure defaults
        "SWITCHBOARD_API_KEY": secrets.token_urlsafe(16),
        "SWITCHBOARD__STORE__POSTGRES_DSN": DSN,
        "SWITCHBOARD__STORE__POSTGRES_SCHEMA": schema,
        "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
        "SWITCHBOARD__SPEECH__STT": "instant",  # text mode: no speech model to load
        "SWITCHBOARD__SPEECH__TTS": "instant",
        "SWITCHBOARD__GATEWAY__PORT": str(ports.gateway),
        **{f"SWITCHBOARD__SERVICES__{s.upper()}": ports.grpc_address(s) for s in GRPC_SERVICES},
    }
    log = tmp_path / "run.log"  # a file, not a pipe: nobody reads the services' logs
    with log.open("w") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "switchboard_cli", "run", "--store", "postgres"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 90
        while "Press Ctrl-C" not in log.read_text() and run.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        printed = log.read_text()
        assert "Switchboard is running" in printed, printed
        assert f"PostgreSQL {DSN} (schema {schema})" in printed
        simulated = subprocess.run(
            [sys.executable, "-m", "switchboard_cli", "simulate", str(DEMO)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert simulated.returncode == 0, simulated.stdout + simulated.stderr
        assert "Expected claim: matches" in simulated.stdout
        [call] = _query(schema, "SELECT state FROM calls")
        assert call["state"] == "ended"
    finally:
        run.send_signal(signal.SIGTERM)
        try:
            code = run.wait(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
            _query("public", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert code == 0
