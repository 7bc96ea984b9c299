"""Text-mode turn overhead through the five services, per store set-up, in one sitting:
SQLite (the embedded default) and PostgreSQL with Redis on (the scale-out set-up).

The measurement is ``turn_overhead.py``'s (a simulated phone's line out → the first bot
sentence back, form policy, every claim value a durable write); only the services'
configuration differs. Taking the figures back to back (``--rounds`` alternates them)
keeps a loaded machine from favouring one.

    .venv/bin/python bench/turn_overhead_stores.py [--turns 300] [--rounds 1]

PostgreSQL: a schema of its own in SWITCHBOARD_TEST_POSTGRES_DSN (default ``test`` on
127.0.0.1), migrated by the store at start and dropped at the end. Redis: the test server
of SWITCHBOARD_TEST_REDIS_URL (default redis://127.0.0.1:6379/15) under a key prefix of its
own, deleted at the end. Prints a table and writes bench/results/turn_overhead_stores.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
from results_io import percentile, table, write_results
from turn_overhead import measure

from switchboard.redis_link import open_redis
from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_testing.redis_server import delete_prefix, redis_settings_for_test

DSN = os.environ.get("SWITCHBOARD_TEST_POSTGRES_DSN") or "postgresql://127.0.0.1:5432/test"
SETUPS = ("sqlite", "postgres+redis")


async def _drop_schema(schema: str) -> None:
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def _delete_redis_prefix(prefix: str) -> None:
    redis = open_redis(redis_settings_for_test(key_prefix=prefix))
    try:
        await delete_prefix(redis, prefix)
    finally:
        await redis.aclose()


@contextlib.contextmanager
def store_env(setup: str) -> Iterator[dict[str, str]]:
    """The services' overrides for ``setup``; what it created is removed afterwards."""
    if setup == "sqlite":
        yield {}
        return
    schema = f"bench_turns_{uuid.uuid4().hex[:12]}"
    redis = redis_settings_for_test()
    try:
        yield {
            "SWITCHBOARD__STORE__BACKEND": "postgres",
            "SWITCHBOARD__STORE__POSTGRES_DSN": DSN,
            "SWITCHBOARD__STORE__POSTGRES_SCHEMA": schema,
            "SWITCHBOARD__STORE__MIGRATE_ON_START": "true",
            "SWITCHBOARD__REDIS__ENABLED": "true",
            "SWITCHBOARD__REDIS__URL": redis.url,
            "SWITCHBOARD__REDIS__KEY_PREFIX": redis.key_prefix,
        }
    finally:
        asyncio.run(_drop_schema(schema))
        asyncio.run(_delete_redis_prefix(redis.key_prefix))


def turns_on(setup: str, turns: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp, store_env(setup) as env:
        cluster = Cluster(
            ports=ClusterPorts.free(),
            api_key=secrets.token_urlsafe(16),
            data_dir=Path(tmp) / "data",
            log_dir=Path(tmp) / "logs",
            env={"SWITCHBOARD_CONFIG": str(Path(tmp) / "none.yaml"), **env},
        )
        cluster.start()
        try:
            return asyncio.run(measure(cluster, turns))
        finally:
            cluster.stop()


def summary(samples: list[float]) -> dict[str, Any]:
    return {
        "turns": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p90_ms": round(percentile(samples, 90), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "max_ms": round(max(samples), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300, help="measured turns per round")
    parser.add_argument("--rounds", type=int, default=1, help="alternations of the set-ups")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {setup: [] for setup in SETUPS}
    for _ in range(args.rounds):
        for setup in SETUPS:
            samples[setup] += turns_on(setup, args.turns)
    results = {setup: summary(s) for setup, s in samples.items()}
    path = write_results(
        "turn_overhead_stores",
        {
            "benchmark": "text-mode turn overhead (callee line in -> first bot sentence out)",
            "policy": "form",
            "rounds": args.rounds,
            **results,
            "load_average": os.getloadavg(),  # the machine may be shared: say how much
        },
    )
    rows = [
        [setup, r["turns"], r["p50_ms"], r["p90_ms"], r["p99_ms"], r["max_ms"]]
        for setup, r in results.items()
    ]
    headers = ["store", "turns", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    sys.stdout.write(f"{table(headers, rows)}\njson {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
