"""A call's turns while the store's writes are held, as a stalled fsync holds them.

Five services as processes over real gRPC, SQLite with fsync, form policy, text
mode. While one call talks, another connection holds the store database's write
lock for ``--hold`` seconds (``BEGIN IMMEDIATE`` on the same file: every write the
store makes waits, exactly as behind a disk write that does not come back). The
call says, during the hold, one thing that fills no claim field ("sorry, can you
repeat?") and, during another hold, one answer that fills a field. Measured at the
phone: line out → first bot sentence, and line out → turn done.

    .venv/bin/python bench/held_write.py [--rounds 5] [--hold 1.5]

Expected: a turn that fills no field is answered in milliseconds (the bot acts on
no write; its transcript lines are stored when the disk comes back, before the
turn is done); a turn that fills a field waits for the hold (the claim must be
durable before the bot acts on it). Prints a table, writes
bench/results/held_write.json.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from results_io import machine, write_results

from switchboard.phone import (
    BotSaid,
    BotTurnDone,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneDownlink,
    PhoneHangUp,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneSay,
)
from switchboard.phone_client import GrpcPhoneStream, PhoneClient
from switchboard_cli.launcher import Cluster, ClusterPorts

FIELDS = 40
NO_FIELD = "sorry, can you repeat?"
WAIT_SEC = 30.0
SETTLE_SEC = 0.1  # after taking the lock, before the caller speaks


@contextmanager
def held_writes(db: Path) -> Iterator[None]:
    """Holds the database's write lock: the store's writes wait until it is let go."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=WAIT_SEC)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


@dataclass
class Caller:
    """One call's phone: sends lines, times the bot's answers."""

    phone: GrpcPhoneStream
    events: asyncio.Queue[PhoneDownlink] = field(default_factory=asyncio.Queue)

    async def pump(self) -> None:
        async for event in self.phone.events():
            if isinstance(event, PhoneRinging):
                await self.phone.send(PhoneAnswer(event.call_id))
            await self.events.put(event)

    async def next_of(self, kind: type[PhoneDownlink]) -> PhoneDownlink:
        while True:
            event = await asyncio.wait_for(self.events.get(), WAIT_SEC)
            if isinstance(event, kind):
                return event
            if isinstance(event, PhoneCallEnded):
                raise RuntimeError("the call ended during the benchmark")

    async def turn(self, text: str) -> tuple[float, float]:
        """(ms to the first sentence, ms to turn done) for one line."""
        started = time.perf_counter()
        await self.phone.send(PhoneSay(text))
        await self.next_of(BotSaid)
        first = (time.perf_counter() - started) * 1000
        await self.next_of(BotTurnDone)
        return first, (time.perf_counter() - started) * 1000


async def place_call(cluster: Cluster, number: str) -> None:
    payload = {
        "bot_company": "Bench Co",
        "bot_name": "Joe",
        "phone_number": number,
        "agent_phone_number": "+14155550199",
        "task": "Collect the answers.",
        "claim": [
            {"name": f"answer_{i}", "type": "text", "description": f"answer number {i}"}
            for i in range(FIELDS)
        ],
    }
    async with httpx.AsyncClient(
        base_url=cluster.gateway_url, headers={"Authorization": f"Bearer {cluster.api_key}"}
    ) as http:
        (await http.post("/call", json=payload)).raise_for_status()


async def during_hold(caller: Caller, db: Path, hold: float, text: str) -> tuple[float, float]:
    with held_writes(db):
        await asyncio.sleep(SETTLE_SEC)
        timing = asyncio.create_task(caller.turn(text))
        await asyncio.wait({timing}, timeout=hold - SETTLE_SEC)
    return await timing


async def measure(cluster: Cluster, db: Path, rounds: int, hold: float) -> dict[str, Any]:
    phones = PhoneClient(cluster.ports.grpc_address("dialer"))
    samples: dict[str, list[tuple[float, float]]] = {
        "no_field_free": [],
        "no_field_held": [],
        "field_free": [],
        "field_held": [],
    }
    try:
        phone = await phones.register(PhoneRegister("+14155552100", PhoneMode.TEXT))
        caller = Caller(phone)
        pump = asyncio.create_task(caller.pump())
        try:
            await place_call(cluster, "+14155552100")
            await caller.next_of(BotTurnDone)  # the greeting
            answer = 0
            for _ in range(rounds):
                samples["no_field_free"].append(await caller.turn(NO_FIELD))
                answer += 1
                samples["field_free"].append(await caller.turn(f"My answer is {answer}."))
                samples["no_field_held"].append(await during_hold(caller, db, hold, NO_FIELD))
                answer += 1
                samples["field_held"].append(
                    await during_hold(caller, db, hold, f"My answer is {answer}.")
                )
            await phone.send(PhoneHangUp("bench done"))
        finally:
            pump.cancel()
            await phone.close()
    finally:
        await phones.close()
    return {
        name: {
            "turns": len(values),
            "first_sentence_p50_ms": round(statistics.median(v[0] for v in values), 2),
            "first_sentence_max_ms": round(max(v[0] for v in values), 2),
            "turn_done_p50_ms": round(statistics.median(v[1] for v in values), 2),
        }
        for name, values in samples.items()
    }


def run(rounds: int, hold: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(
            ports=ClusterPorts.free(),
            api_key=secrets.token_urlsafe(16),
            data_dir=Path(tmp) / "data",
            log_dir=Path(tmp) / "logs",
            env={"SWITCHBOARD_CONFIG": str(Path(tmp) / "none.yaml")},
        )
        cluster.start()
        try:
            turns = asyncio.run(measure(cluster, cluster.data_dir / "switchboard.db", rounds, hold))
        finally:
            cluster.stop()
    return {
        "benchmark": "a call's turns while the store's writes are held (text mode, form policy)",
        "hold_sec": hold,
        "rounds": rounds,
        "turns": turns,
        **machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hold", type=float, default=1.5, help="seconds the writes are held")
    args = parser.parse_args()
    result = run(args.rounds, args.hold)
    write_results("held_write", result)
    lines = [f"\n{'turn':>14} {'first p50 ms':>13} {'first max ms':>13} {'done p50 ms':>12}"]
    for name, row in result["turns"].items():
        lines.append(
            f"{name:>14} {row['first_sentence_p50_ms']:>13} {row['first_sentence_max_ms']:>13} "
            f"{row['turn_done_p50_ms']:>12}"
        )
    lines.append(f"writes held {args.hold} s per held turn\n")
    sys.stdout.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
