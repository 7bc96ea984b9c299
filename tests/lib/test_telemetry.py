"""Telemetry: off by default; when on, one trace across a gRPC hop, RPC durations, no PII.

Providers are process-wide and OpenTelemetry lets a process install them once, so
one module fixture turns telemetry on (test mode: in-memory exporters, written as
JSON lines on shutdown) and every test reads and clears the same memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan

from switchboard import telemetry
from switchboard.channels import open_channel
from switchboard.server import GrpcService
from switchboard.telemetry_export import JsonLinesDump
from switchboard_testing.clock import VirtualClock

PERSONAL = {"phone_number": "+14155550123", "pii_text": "my card is 4111", "transcript": "hi"}


def test_without_an_endpoint_telemetry_stays_off_and_adds_no_interceptors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(telemetry.ENDPOINT_ENV, raising=False)
    monkeypatch.delenv(telemetry.TEST_DIR_ENV, raising=False)
    monkeypatch.setattr(telemetry, "_state", None)
    assert telemetry.configure_telemetry("dialer") is False
    assert telemetry.server_interceptors() == []
    assert telemetry.client_interceptors() == []
    assert not telemetry.enabled()


def test_the_service_name_defaults_to_switchboard_and_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(telemetry.SERVICE_NAME_ENV, raising=False)
    assert telemetry.service_name("speech") == "switchboard-speech"
    monkeypatch.setenv(telemetry.SERVICE_NAME_ENV, "speech-eu")
    assert telemetry.service_name("speech") == "speech-eu"


def test_unsafe_attribute_keys_and_values_are_dropped() -> None:
    kept = telemetry.safe_attributes(
        {**PERSONAL, "call.id": "c1", "turn.index": 2, "provider.name": ["not", "scalar"]}
    )
    assert kept == {"call.id": "c1", "turn.index": 2}


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonLinesDump]:
    folder = tmp_path_factory.mktemp("telemetry")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(telemetry.TEST_DIR_ENV, str(folder))
        patch.delenv(telemetry.ENDPOINT_ENV, raising=False)
        patch.setattr(telemetry, "_state", None)
        assert telemetry.configure_telemetry("unit")
        state = telemetry._state
        assert state is not None and state.dump is not None
        try:
            yield state.dump
        finally:
            telemetry.shutdown_telemetry()


@pytest.fixture
def spans(dump: JsonLinesDump) -> Iterator[JsonLinesDump]:
    dump.spans.clear()
    yield dump


@pytest.fixture
async def health(dump: JsonLinesDump) -> AsyncIterator[health_pb2_grpc.HealthStub]:
    service = GrpcService("unit", "127.0.0.1:0", ["switchboard.v1.Unit"])
    port = await service.start()
    channel = open_channel(f"127.0.0.1:{port}")
    try:
        yield health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
    finally:
        await channel.close()
        await service.stop(0)


def _by_name(dump: JsonLinesDump) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in dump.spans.get_finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


def _durations(dump: JsonLinesDump) -> list[dict[str, Any]]:
    data = dump.metrics.get_metrics_data()
    assert data is not None
    return [
        {**dict(point.attributes or {}), "count": point.count}
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "rpc.server.call.duration"
        for point in metric.data.data_points
    ]


async def test_a_call_and_its_grpc_hop_share_one_trace_and_the_server_knows_the_call(
    spans: JsonLinesDump, health: health_pb2_grpc.HealthStub
) -> None:
    with telemetry.call_scope("call-7"), telemetry.span("call", {"call.id": "call-7"}):
        await health.Check(health_pb2.HealthCheckRequest(service="switchboard.v1.Unit"))
    named = _by_name(spans)
    root = named["call"][0]
    server = next(s for s in spans.spans.get_finished_spans() if s.kind.name == "SERVER")
    client = next(s for s in spans.spans.get_finished_spans() if s.kind.name == "CLIENT")
    assert {root.context.trace_id, client.context.trace_id, server.context.trace_id} == {
        root.context.trace_id
    }
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert server.attributes is not None and server.attributes["call.id"] == "call-7"


async def test_every_rpc_records_its_duration_with_method_and_status_code(
    spans: JsonLinesDump, health: health_pb2_grpc.HealthStub
) -> None:
    await health.Check(health_pb2.HealthCheckRequest(service=""))
    with pytest.raises(grpc.aio.AioRpcError):
        await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))

    def checks(status: int) -> list[dict[str, Any]]:
        points = _durations(spans)
        return [
            p for p in points if p["rpc.method"] == "Check" and p["rpc.grpc.status_code"] == status
        ]

    # The server records a call once it has sent the status, which the client may see first.
    for _ in range(100):
        if checks(5):
            break
        await asyncio.sleep(0.02)
    ok, missing = checks(0), checks(5)
    assert ok and missing
    assert ok[0]["rpc.system"] == "grpc" and ok[0]["rpc.service"] == "grpc.health.v1.Health"


async def test_a_job_queued_by_a_call_runs_in_that_calls_trace(spans: JsonLinesDump) -> None:
    with telemetry.call_scope("call-8"), telemetry.span("call"):
        traceparent = telemetry.current_traceparent()
    assert traceparent.startswith("00-")
    with telemetry.call_scope("call-8", traceparent), telemetry.span("post_call"):
        pass
    named = _by_name(spans)
    call, job = named["call"][0], named["post_call"][0]
    assert job.context.trace_id == call.context.trace_id
    assert job.parent is not None and job.parent.span_id == call.context.span_id
    assert job.attributes is not None and job.attributes["call.id"] == "call-8"


def test_turn_spans_follow_the_caller_turns_and_measure_the_text_answer(
    spans: JsonLinesDump,
) -> None:
    from switchboard_dialer.turn_trace import TurnTrace

    clock = VirtualClock()
    turns = TurnTrace("call-9", clock)
    turns.measure_answer = True
    turns.caller_turn("u1")
    clock.advance(0.25)
    turns.sentence_out("a1")
    turns.agent_turn_ended("a1", "played")
    turns.caller_turn("u2")
    turns.close()
    turn_spans = _by_name(spans)["turn"]
    assert [dict(s.attributes or {})["turn.index"] for s in turn_spans] == [1, 2]
    assert [dict(s.attributes or {})["turn.outcome"] for s in turn_spans] == [
        "played",
        "call_ended",
    ]


def test_spans_carry_only_safe_attribute_keys_and_no_personal_values(
    spans: JsonLinesDump,
) -> None:
    with telemetry.span("call", {**PERSONAL, "call.id": "c1"}) as span:
        telemetry.set_attributes(span, PERSONAL)
    allowed = telemetry.SAFE_ATTRIBUTE_KEYS | telemetry.INSTRUMENTATION_ATTRIBUTE_KEYS
    for finished in spans.spans.get_finished_spans():
        attributes = dict(finished.attributes or {})
        assert set(attributes) <= allowed, finished.name
        assert not set(map(str, attributes.values())) & set(PERSONAL.values())


def test_shutdown_writes_spans_and_metrics_as_json_lines(tmp_path: Path) -> None:
    dump = JsonLinesDump(tmp_path / "unit.jsonl")
    dump.spans.clear()
    from opentelemetry.sdk.metrics import MeterProvider

    provider = MeterProvider(metric_readers=[dump.metrics])
    provider.get_meter("t").create_histogram("call.answer.latency", unit="s").record(0.5)
    dump.write(provider)
    lines = [json.loads(line) for line in (tmp_path / "unit.jsonl").read_text().splitlines()]
    assert lines[0]["metric"]["name"] == "call.answer.latency"
    assert lines[0]["metric"]["count"] == 1 and lines[0]["metric"]["sum"] == 0.5
    provider.shutdown()


def test_raw_urls_on_http_spans_are_redacted_as_they_start(spans: JsonLinesDump) -> None:
    from switchboard.telemetry_export import REDACTED

    query = {"url.path": "/call", "url.query": "phone_number=%2B14155550123"}
    telemetry.tracer().start_span("GET /call", attributes={**query, "http.route": "/call"}).end()
    finished = _by_name(spans)["GET /call"][0]
    assert finished.attributes is not None
    assert finished.attributes["url.query"] == REDACTED
    assert finished.attributes["url.path"] == REDACTED
    assert finished.attributes["http.route"] == "/call"


# A service process with the endpoint set, in a subprocess: providers are process-wide.
_EXPORTING_SERVICE = """
from switchboard import telemetry
from switchboard.telemetry_metrics import ANSWER_LATENCY
assert telemetry.configure_telemetry("unit")
with telemetry.call_scope("call-1"), telemetry.span("call", {"call.id": "call-1"}):
    ANSWER_LATENCY.record(0.4, {"call.mode": "text"})
telemetry.shutdown_telemetry()
"""


class _Collector(BaseHTTPRequestHandler):
    posts: ClassVar[dict[str, bytes]] = {}

    def do_POST(self) -> None:
        _Collector.posts[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_with_an_endpoint_spans_and_metrics_are_posted_over_otlp_http() -> None:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        telemetry.ENDPOINT_ENV: f"http://127.0.0.1:{collector.server_address[1]}",
        telemetry.SERVICE_NAME_ENV: "",
    }
    env.pop(telemetry.TEST_DIR_ENV, None)
    try:
        subprocess.run([sys.executable, "-c", _EXPORTING_SERVICE], env=env, check=True, timeout=60)
    finally:
        collector.shutdown()
        collector.server_close()
    traces = ExportTraceServiceRequest.FromString(_Collector.posts["/v1/traces"])
    [resource] = traces.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "switchboard-unit"
    assert [s.name for s in resource.scope_spans[0].spans] == ["call"]
    metrics = ExportMetricsServiceRequest.FromString(_Collector.posts["/v1/metrics"])
    names = {
        m.name for rm in metrics.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    assert "call.answer.latency" in names
