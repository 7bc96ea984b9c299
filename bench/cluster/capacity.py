"""Whole-system capacity: how many concurrent voice calls the five services carry with the
caller hearing the bot on time, phones on the carrier's path (Twilio Media Streams).

The five services run as processes (``voice_cluster``: instant STT and TTS, the form
policy, webrtc VAD), the fake Twilio plays the carrier, and N virtual phones in this
process each open a Media Stream WebSocket to the gateway, send 20 ms µ-law frames in
real time and speak 0.5 s every 3 s; the bot answers each utterance with about 2 s of
audio. After every call is up and a warm-up, one window is measured at the phones:

* playout lateness p50/p99 of every bot frame (``voice_measures``),
* turn latency p50/p99 (includes the 500 ms silence window that ends the caller's turn),
* calls failed, utterances unanswered, barge-ins (``clear``) seen,
* CPU and RSS of each service, and RSS per added call (loaded minus idle, over N).

Every N is run ``--runs`` times on a fresh cluster; the capacity is the largest N whose
runs all have lateness p99 ≤ 10 ms and no failed call. ``--soak-minutes`` then holds
that N (or ``--soak-calls``) for a soak with calls hanging up and redialling, and
reports each service's RSS growth and open descriptors.

    .venv/bin/python bench/cluster/capacity.py [--calls 10,25,50] [--runs 2] [--seconds 30]
        [--warmup 10] [--soak-minutes 0] [--soak-calls N] [--call-sec 60] [--profile DIR]

Prints tables and the command line, writes bench/results/cluster_capacity.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from common import command_line, percentile, table, write_results
from procstats import ProcessSample, cpu_percent, samples
from twilio_phone import CYCLE_SEC
from voice_cluster import Numbers, Tally, api_client, phone_worker, service_pids, voice_cluster

from switchboard_cli.launcher import Cluster
from switchboard_testing.fake_twilio import FakeTwilio

TARGET_P99_MS = 10.0
CONNECT_TIMEOUT_SEC = 120.0
PRIME_SEC = 4.0
SETTLE_SEC = 3.0
MEASURED = ("gateway", "dialer", "speech", "brain", "store")


def rounded(values: Iterable[float], q: float) -> float:
    return round(float(percentile(list(values), q)), 2)


def service_costs(
    pids: dict[str, int],
    idle: dict[str, ProcessSample],
    before: dict[str, ProcessSample],
    after: dict[str, ProcessSample],
    wall: float,
    calls: int,
) -> dict[str, dict[str, float]]:
    return {
        name: {
            "cpu_percent": round(cpu_percent(before[name], after[name], wall), 1),
            "rss_mib": round(after[name].rss_kib / 1024, 1),
            "rss_idle_mib": round(idle[name].rss_kib / 1024, 1),
            "rss_per_call_kib": round((after[name].rss_kib - idle[name].rss_kib) / calls, 1)
            if calls and name in idle
            else 0.0,
            "fds": after[name].fds,
        }
        for name in pids
    }


async def carry(
    cluster: Cluster,
    twilio: FakeTwilio,
    count: int,
    warmup: float,
    seconds: float,
    call_sec: float,
    sample_every: float = 0.0,
    profile: Path | None = None,
) -> dict[str, Any]:
    """``count`` phones on the cluster; measures one window of ``seconds`` after ``warmup``.
    With ``sample_every``, also samples the services' RSS that often during the window."""
    pids = service_pids(cluster)
    pids["bench (phones)"] = os.getpid()
    tally = Tally(float("inf"), float("inf"))
    stop = asyncio.Event()
    numbers = Numbers()
    async with api_client(cluster) as api:
        # A first round of short calls at full concurrency, so "idle" is after the lazy
        # start-up (channels, pools grown to this load) and RSS per call is the calls' own.
        primed = Tally(float("inf"), float("inf"))
        never = asyncio.Event()
        await asyncio.gather(
            *(
                phone_worker(i, count, twilio, api, numbers, never, PRIME_SEC, primed, once=True)
                for i in range(count)
            )
        )
        await asyncio.sleep(SETTLE_SEC)
        idle = samples(pids)
        connected = [asyncio.Event() for _ in range(count)]
        workers = [
            asyncio.create_task(
                phone_worker(i, count, twilio, api, numbers, stop, call_sec, tally, connected[i]),
                name=f"phone-{i}",
            )
            for i in range(count)
        ]
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SEC):
                await asyncio.gather(*(event.wait() for event in connected))
            await asyncio.sleep(warmup)
            tally.start = time.monotonic()
            tally.end = tally.start + seconds
            before = samples(pids)
            if profile is not None:
                (profile / "sampling").touch()  # the services' samplers look from now on
            trace = [(0.0, before)]
            while (left := tally.end - time.monotonic()) > 0:
                await asyncio.sleep(min(left, sample_every) if sample_every else left)
                trace.append((time.monotonic() - tally.start, samples(pids)))
            after = trace[-1][1]
            if profile is not None:
                (profile / "sampling").unlink()
            # The last utterances of the window get their answer before the phones hang up.
            await asyncio.sleep(CYCLE_SEC)
        finally:
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)
    await asyncio.sleep(SETTLE_SEC)  # the dialer ends the calls, the streams close
    settled = samples(pids)
    wall = tally.end - tally.start
    return {
        "calls": count,
        "lateness_p50_ms": rounded(tally.lateness, 50),
        "lateness_p99_ms": rounded(tally.lateness, 99),
        "lateness_max_ms": round(max(tally.lateness, default=float("nan")), 2),
        "turn_p50_ms": rounded(tally.turns, 50),
        "turn_p99_ms": rounded(tally.turns, 99),
        "frames": len(tally.lateness),
        "turns": len(tally.turns),
        "bot_turn_p50_sec": rounded(tally.reply_sec, 50),
        "unanswered": tally.unanswered,
        "barge_ins": tally.clears,
        "calls_placed": tally.calls,
        "calls_failed": len(tally.failures) + len(primed.failures),
        "failures": sorted(set(tally.failures + primed.failures))[:5],
        "phone_send_late_p99_ms": rounded(tally.send_late, 99),
        "services": service_costs(pids, idle, before, after, wall, count),
        "fds_idle": {name: s.fds for name, s in idle.items()},
        "fds_after_calls": {name: s.fds for name, s in settled.items()},
        "rss_trace_mib": [
            [round(t), {n: round(s.rss_kib / 1024, 1) for n, s in point.items()}]
            for t, point in trace
        ],
    }


def one_run(count: int, args: argparse.Namespace, soak: bool = False) -> dict[str, Any]:
    profile = Path(args.profile) if args.profile else None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
    with voice_cluster(profile) as (cluster, twilio):
        if soak:
            window = args.soak_minutes * 60
            return asyncio.run(
                carry(cluster, twilio, count, args.soak_warmup, window, args.call_sec, 10, profile)
            )
        return asyncio.run(
            carry(cluster, twilio, count, args.warmup, args.seconds, float("inf"), 0, profile)
        )


def summary_row(run: int, r: dict[str, Any]) -> list[Any]:
    return [
        r["calls"],
        run,
        r["lateness_p50_ms"],
        r["lateness_p99_ms"],
        r["lateness_max_ms"],
        r["turn_p50_ms"],
        r["turn_p99_ms"],
        r["unanswered"],
        r["barge_ins"],
        r["calls_failed"],
        r["phone_send_late_p99_ms"],
    ]


SUMMARY = [
    "calls",
    "run",
    "late p50",
    "late p99",
    "late max",
    "turn p50",
    "turn p99",
    "unanswered",
    "barge-ins",
    "failed",
    "phone late p99",
]


def service_table(rows: list[tuple[int, int, dict[str, Any]]]) -> str:
    headers = ["calls", "run"]
    for name in MEASURED:
        headers += [f"{name} CPU%", f"{name} MiB", f"{name} KiB/call"]
    body = []
    for count, run, r in rows:
        line: list[Any] = [count, run]
        for name in MEASURED:
            s = r["services"][name]
            line += [s["cpu_percent"], s["rss_mib"], s["rss_per_call_kib"]]
        body.append(line)
    return str(table(headers, body))


def soak_report(r: dict[str, Any]) -> tuple[str, dict[str, float]]:
    first, last = r["rss_trace_mib"][0][1], r["rss_trace_mib"][-1][1]
    growth = {n: round(100 * (last[n] - first[n]) / first[n], 1) for n in MEASURED}
    rows = [
        [n, first[n], last[n], growth[n], r["fds_idle"][n], r["fds_after_calls"][n]]
        for n in MEASURED
    ]
    headers = ["service", "RSS start MiB", "RSS end MiB", "growth %", "fds before", "fds after"]
    return table(headers, rows), growth


def main(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.calls.split(",") if c]
    runs: list[tuple[int, int, dict[str, Any]]] = []
    for count in counts:
        for run in range(1, args.runs + 1):
            runs.append((count, run, one_run(count, args)))
            print(f"{count} calls, run {run}: done", flush=True)  # noqa: T201
    passing = sorted(
        {
            c
            for c in counts
            if all(
                r["lateness_p99_ms"] <= TARGET_P99_MS and r["calls_failed"] == 0
                for n, _, r in runs
                if n == c
            )
        }
    )
    capacity = passing[-1] if passing else 0
    load = os.getloadavg()
    if runs:
        print(table(SUMMARY, [summary_row(run, r) for _, run, r in runs]))  # noqa: T201
        print()  # noqa: T201
        print(service_table(runs))  # noqa: T201
        print(  # noqa: T201
            f"\ncapacity: {capacity} concurrent calls with playout lateness p99 <= "
            f"{TARGET_P99_MS:g} ms at the phone in {args.runs} runs of {args.runs} "
            f"(of {counts}); load average now {load[0]:.1f}"
        )
    soak: dict[str, Any] | None = None
    soak_calls = args.soak_calls or capacity
    if args.soak_minutes > 0 and soak_calls:
        soak = one_run(soak_calls, args, soak=True)
        text, growth = soak_report(soak)
        soak["rss_growth_percent"] = growth
        print(  # noqa: T201
            f"\nsoak: {soak_calls} calls at a time for {args.soak_minutes:g} min, calls of "
            f"{args.call_sec:g} s redialled: {soak['calls_placed']} placed, "
            f"{soak['calls_failed']} failed; lateness p99 {soak['lateness_p99_ms']} ms"
        )
        print(text)  # noqa: T201
    path = write_results(
        "cluster_capacity",
        {
            "command": command_line(),
            "load_average": list(load),
            "target_p99_ms": TARGET_P99_MS,
            "capacity": capacity,
            "runs": [{"run": run, **r} for _, run, r in runs],
            "soak": soak,
        },
    )
    print(f"\nreproduce: {command_line()}\nwrote {path}")  # noqa: T201


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="10,25,50", help="the N to try, comma-separated")
    parser.add_argument("--runs", type=int, default=2, help="runs per N, each on a fresh cluster")
    parser.add_argument("--seconds", type=float, default=30.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=10.0, help="after every call is up")
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--soak-calls", type=int, default=0, help="default: the capacity")
    parser.add_argument("--soak-warmup", type=float, default=60.0)
    parser.add_argument("--call-sec", type=float, default=60.0, help="soak call length")
    parser.add_argument("--profile", default="", help="directory for the services' stacks")
    return parser.parse_args()


if __name__ == "__main__":
    main(parse())
