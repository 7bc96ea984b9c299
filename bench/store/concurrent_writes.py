"""Many calls writing at once to the SQLite store, in process (no gRPC): each call makes
one durable claim update carrying the caller's words per turn, back to back. Measures
the write latency each call sees, the writes per second and per commit, and how a
stalled write spreads (in the last runs a write holds the writer for ``--stall``
seconds while the calls write); each run once with one commit per write (as before
group commit) and once with group commit.

    .venv/bin/python bench/store/concurrent_writes.py [--calls 35] [--turns 40] [--stall 0.5]

Prints a table and writes bench/results/store_concurrent_writes.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from results_io import machine, percentile, write_results  # noqa: E402

from switchboard import domain  # noqa: E402
from switchboard_store.sqlite_repository import SqliteCallRepository  # noqa: E402
from switchboard_store.sqlite_writer import MAX_GROUP  # noqa: E402

OUT = domain.CallDirection.OUTBOUND
STALL_AFTER_SEC = 0.1  # the calls are writing when the stall begins


def request(n: int) -> domain.CallRequest:
    return domain.CallRequest.model_validate(
        {
            "bot_company": "Contoso",
            "bot_name": "Joe",
            "phone_number": f"+336{n:08d}",
            "agent_phone_number": "",
            "task": "Collect the answers.",
            "claim": [{"name": "description", "type": "text"}],
        }
    )


async def one_call(repo: SqliteCallRepository, n: int, turns: int, out: list[float]) -> None:
    call_id = (await repo.create_call(request(n), OUT)).call_id
    for turn in range(turns):
        words = domain.Message(
            persona=domain.Persona.HUMAN, content=f"answer {turn}", turn_id=f"t{turn}"
        )
        started = time.perf_counter()
        await repo.update_claim(call_id, [("description", f"answer {turn}")], [words])
        out.append((time.perf_counter() - started) * 1000)


def hold_writer(repo: SqliteCallRepository, seconds: float) -> asyncio.Future[None]:
    """A write that stays on the writer for ``seconds``: a stalled fsync."""
    return repo._db.write(lambda _conn: threading.Event().wait(seconds) and None)


async def measure(calls: int, turns: int, stall: float, group: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        repo = await SqliteCallRepository.open(Path(scratch) / "store.db")
        writer = repo._db.writer
        writer.max_group = MAX_GROUP if group else 1
        try:
            latencies: list[float] = []
            groups, writes = writer.groups, writer.writes
            started = time.perf_counter()
            work = [asyncio.create_task(one_call(repo, n, turns, latencies)) for n in range(calls)]
            if stall:
                await asyncio.sleep(STALL_AFTER_SEC)
                await hold_writer(repo, stall)
            await asyncio.gather(*work)
            elapsed = time.perf_counter() - started
            committed = repo._db.writer.writes - writes
            return {
                "group_commit": group,
                "calls": calls,
                "turns_per_call": turns,
                "stall_sec": stall,
                "p50_ms": round(statistics.median(latencies), 2),
                "p99_ms": round(percentile(latencies, 99), 2),
                "max_ms": round(max(latencies), 2),
                "writes_over_half_the_stall": sum(1 for v in latencies if v > stall * 500)
                if stall
                else 0,
                "writes_per_sec": round(len(latencies) / elapsed),
                "writes_per_commit": round(committed / max(1, writer.groups - groups), 1),
            }
        finally:
            await repo.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=35)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--stall", type=float, default=0.5)
    args = parser.parse_args()
    runs = [
        asyncio.run(measure(calls, args.turns, stall, group))
        for calls, stall in ((1, 0.0), (args.calls, 0.0), (args.calls, args.stall))
        for group in (False, True)
    ]
    write_results("store_concurrent_writes", {"runs": runs, **machine()})
    lines = [
        f"\n{'commit':>7} {'calls':>6} {'stall s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'writes/s':>9} {'per commit':>11} {'> stall/2':>10}"
    ]
    for r in runs:
        lines.append(
            f"{'group' if r['group_commit'] else 'each':>7} {r['calls']:>6} {r['stall_sec']:>8} "
            f"{r['p50_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8} {r['writes_per_sec']:>9} "
            f"{r['writes_per_commit']:>11} {r['writes_over_half_the_stall']:>10}"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
