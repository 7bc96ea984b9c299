"""Text-mode turn overhead through the services, form policy.

Measures, at the simulated phone, the time from the callee's line leaving the
phone to the first bot sentence arriving back: dialer → brain → store → brain →
dialer, all over real gRPC between separate processes, SQLite with fsync.

    .venv/bin/python bench/turn_overhead.py [--turns 300] [--tracing off|on|both]

``--tracing on`` runs the services with OpenTelemetry exporting over OTLP/HTTP to a
sink on loopback (the whole export path is paid); ``both`` measures off, then on.
Prints a table and writes bench/results/turn_overhead.json (tracing off) and
bench/results/turn_overhead_tracing.json (tracing on).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from results_io import percentile

from switchboard.phone import (
    BotSaid,
    BotTurnDone,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneHangUp,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneSay,
)
from switchboard.phone_client import GrpcPhoneStream, PhoneClient
from switchboard_cli.launcher import Cluster, ClusterPorts

FIELDS = 40  # text fields per call, so one call gives many measured turns
RESULTS = Path(__file__).parent / "results"


async def one_call(cluster: Cluster, number: str, samples: list[float], max_turns: int) -> None:
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
    phones = PhoneClient(cluster.ports.grpc_address("dialer"))
    try:
        phone = await phones.register(PhoneRegister(number, PhoneMode.TEXT))
        try:
            await converse(cluster, phone, payload, samples, max_turns)
        finally:
            await phone.close()
    finally:
        await phones.close()


async def converse(
    cluster: Cluster,
    phone: GrpcPhoneStream,
    payload: dict[str, Any],
    samples: list[float],
    max_turns: int,
) -> None:
    async with httpx.AsyncClient(
        base_url=cluster.gateway_url,
        headers={"Authorization": f"Bearer {cluster.api_key}"},
    ) as http:
        reply = await http.post("/call", json=payload)
        reply.raise_for_status()
    sent_at: float | None = None
    turns = 0
    async for event in phone.events():
        match event:
            case PhoneRinging(call_id=call_id):
                await phone.send(PhoneAnswer(call_id))
            case BotSaid() if sent_at is not None:
                samples.append((time.perf_counter() - sent_at) * 1000)
                sent_at = None
            case BotTurnDone():
                if turns >= max_turns:
                    await phone.send(PhoneHangUp("bench done"))
                    continue
                turns += 1
                sent_at = time.perf_counter()
                await phone.send(PhoneSay(f"My answer is number {turns}."))
            case PhoneCallEnded():
                return


async def measure(cluster: Cluster, total_turns: int) -> list[float]:
    samples: list[float] = []
    warmup: list[float] = []
    await one_call(cluster, "+14155551000", warmup, 5)
    call = 0
    while len(samples) < total_turns:
        call += 1
        number = f"+1415555{2000 + call}"
        await one_call(cluster, number, samples, min(FIELDS - 1, total_turns - len(samples)))
    return samples


class _OtlpSink(BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP posts (/v1/traces, /v1/metrics) on loopback and drops them."""

    received = 0

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        _OtlpSink.received += len(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def otlp_sink() -> Iterator[str]:
    """A local OTLP/HTTP endpoint, so tracing on pays the whole export (SDK, protobuf, HTTP)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtlpSink)
    thread = threading.Thread(target=server.serve_forever, name="otlp-sink", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(turns: int, tracing: bool) -> dict[str, Any]:
    """One cluster, ``turns`` measured turns; with ``tracing``, exported over OTLP/HTTP."""
    _OtlpSink.received = 0
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        env = {"SWITCHBOARD_CONFIG": str(Path(tmp) / "none.yaml")}
        if tracing:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = stack.enter_context(otlp_sink())
        cluster = Cluster(
            ports=ClusterPorts.free(),
            api_key=secrets.token_urlsafe(16),
            data_dir=Path(tmp) / "data",
            log_dir=Path(tmp) / "logs",
            env=env,
        )
        cluster.start()
        try:
            samples = asyncio.run(measure(cluster, turns))
        finally:
            cluster.stop()
    return {
        "benchmark": "text-mode turn overhead (callee line in -> first bot sentence out)",
        "policy": "form",
        "tracing": "on (OTLP/HTTP to a loopback sink)" if tracing else "off",
        "otlp_bytes_received": _OtlpSink.received if tracing else 0,
        "turns": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p90_ms": round(percentile(samples, 90), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "max_ms": round(max(samples), 2),
        "target": "p50 <= 3 ms, p99 <= 10 ms",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument(
        "--tracing",
        choices=["off", "on", "both"],
        default="off",
        help="OpenTelemetry off (default), on (exported to a local OTLP/HTTP sink), or both",
    )
    args = parser.parse_args()
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.tracing]
    results = [run(args.turns, tracing) for tracing in modes]
    RESULTS.mkdir(exist_ok=True)
    for result in results:
        name = "turn_overhead.json" if result["tracing"] == "off" else "turn_overhead_tracing.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2))
    lines = [
        f"\n{'tracing':>8} {'turns':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    ]
    for r in results:
        lines.append(
            f"{r['tracing'].split()[0]:>8} {r['turns']:>6} {r['p50_ms']:>8} {r['p90_ms']:>8} "
            f"{r['p99_ms']:>8} {r['max_ms']:>8}"
        )
    lines.append(f"target: {results[0]['target']}\n")
    sys.stdout.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
