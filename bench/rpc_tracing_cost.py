"""What tracing adds to one unary gRPC call: each interceptor alone, then all of them.

One process, loopback, ``Health.Check`` with the SDK installed (batch processor, a
null exporter, an in-memory metric reader), so the numbers are the interceptors' own
cost per call, free of the five services' noise.

    .venv/bin/python bench/rpc_tracing_cost.py [--calls 3000] [--rounds 3]

Prints the median round trip per setup and writes bench/results/rpc_tracing_cost.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from results_io import write_results

from switchboard.telemetry_rpc import RpcDurationInterceptor

Setup = Callable[[], tuple[list[Any], list[Any]]]  # (server, client) interceptors


class _NullExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


SETUPS: dict[str, Setup] = {
    "none": lambda: ([], []),
    "rpc.server.call.duration": lambda: ([RpcDurationInterceptor()], []),
    "server spans": lambda: ([aio_server_interceptor()], []),
    "client spans": lambda: ([], aio_client_interceptors()),
    "all (as the services run)": lambda: (
        [aio_server_interceptor(), RpcDurationInterceptor()],
        aio_client_interceptors(),
    ),
}


async def median_round_trip_us(setup: Setup, calls: int) -> float:
    server_interceptors, client_interceptors = setup()
    server = grpc.aio.server(interceptors=server_interceptors)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", interceptors=client_interceptors or None
    )
    stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
    request = health_pb2.HealthCheckRequest()
    try:
        for _ in range(300):  # warm-up
            await stub.Check(request)
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            await stub.Check(request)
            samples.append(time.perf_counter() - started)
    finally:
        await channel.close()
        await server.stop(0)
    return statistics.median(samples) * 1e6


async def measure(calls: int, rounds: int) -> dict[str, float]:
    found: dict[str, list[float]] = {name: [] for name in SETUPS}
    for _ in range(rounds):  # interleaved, so a busy moment hits every setup alike
        for name, setup in SETUPS.items():
            found[name].append(await median_round_trip_us(setup, calls))
    return {name: round(statistics.median(values), 1) for name, values in found.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(_NullExporter()))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    medians = asyncio.run(measure(args.calls, args.rounds))
    base = medians["none"]
    rows = [f"{'setup':<28} {'round trip us':>14} {'added us':>9}"]
    rows += [f"{name:<28} {us:>14} {us - base:>9.1f}" for name, us in medians.items()]
    sys.stdout.write("\n".join(rows) + "\n")
    write_results(
        "rpc_tracing_cost",
        {
            "benchmark": "unary gRPC round trip (Health.Check, loopback) by tracing setup",
            "calls": args.calls,
            "rounds": args.rounds,
            "median_round_trip_us": medians,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
