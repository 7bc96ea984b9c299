"""OpenTelemetry for every service: traces and metrics over OTLP, or nothing at all.

``configure_telemetry(name)`` runs once per process, before its gRPC server and
channels exist:

- ``OTEL_EXPORTER_OTLP_ENDPOINT`` set: an SDK tracer and meter provider export over
  OTLP/HTTP (``OTEL_SERVICE_NAME``, default ``switchboard-<name>``);
- ``SWITCHBOARD_TELEMETRY_TEST_DIR`` set (tests only): finished spans and the final
  metrics are written as JSON lines to ``<dir>/<name>-<pid>.jsonl`` on shutdown;
- neither: no provider is installed. The API's no-op tracer and meter stay, the
  gRPC interceptors are not added, so a span or a measurement costs a function call.

Traces: one per call. The dialer opens a root span per call and puts ``call.id`` in
the baggage; the gRPC interceptors carry ``traceparent`` and ``baggage`` in the
metadata of every hop, and every span a service starts under a call gets the
``call.id`` attribute from the baggage. Attributes hold ids, counts, durations and
provider names only, never personal data (see :data:`SAFE_ATTRIBUTE_KEYS`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.trace import Link, Span, SpanKind

log = logging.getLogger(__name__)

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME_ENV = "OTEL_SERVICE_NAME"
TEST_DIR_ENV = "SWITCHBOARD_TELEMETRY_TEST_DIR"

CALL_ID = "call.id"
TRACER_NAME = "switchboard"

# The attribute keys spans and metrics may carry: ids, counts, durations, names of
# providers and methods. A key outside this set is dropped by :func:`span`, so a
# transcript or a phone number cannot reach a trace by accident.
SAFE_ATTRIBUTE_KEYS = frozenset(
    {
        CALL_ID,
        "call.direction",
        "call.mode",
        "call.end_reason",
        "turn.id",
        "turn.index",
        "turn.outcome",
        "turn.sentences",
        "job.id",
        "job.kind",
        "job.attempt",
        "provider.kind",
        "provider.name",
        "llm.model",
        "llm.tokens.input",
        "llm.tokens.output",
        "llm.outcome",
        "llm.token.type",
        "stt.audio_ms",
        "stt.chars",
        "tts.frames",
        "tts.chars",
        "store.backend",
        "rpc.system",
        "rpc.service",
        "rpc.method",
        "rpc.grpc.status_code",
    }
)
# What libraries add to their own spans: the gRPC instrumentation (no payloads) and
# FastAPI's HTTP spans (raw path and query overwritten as they start: RedactUrls).
INSTRUMENTATION_ATTRIBUTE_KEYS = frozenset(
    {
        "net.peer.ip",
        "net.peer.port",
        "net.peer.name",
        "rpc.user_agent",
        "code.function.name",
        "http.request.method",
        "http.response.status_code",
        "http.route",
        "network.protocol.name",
        "network.protocol.version",
        "server.address",
        "server.port",
        "url.scheme",
        "url.path",
        "url.query",
    }
)

_state: _Telemetry | None = None


class _Telemetry:
    """The installed providers and what must run on shutdown."""

    def __init__(self, name: str, tracer_provider: Any, meter_provider: Any, dump: Any) -> None:
        self.name = name
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.dump = dump  # a JsonLinesDump in test mode, else None


def service_name(name: str) -> str:
    return os.environ.get(SERVICE_NAME_ENV) or f"switchboard-{name}"


def configure_telemetry(name: str) -> bool:
    """Installs the providers the environment asks for; True when telemetry is on.

    Calling it again does nothing (a process configures telemetry once).
    """
    global _state
    if _state is not None:
        return True
    endpoint = os.environ.get(ENDPOINT_ENV, "").strip()
    test_dir = os.environ.get(TEST_DIR_ENV, "").strip()
    if not endpoint and not test_dir:
        return False
    from opentelemetry import metrics
    from opentelemetry.sdk.resources import Resource

    from switchboard.telemetry_export import build_providers

    resource = Resource.create({"service.name": service_name(name)})
    tracer_provider, meter_provider, dump = build_providers(
        resource, endpoint, Path(test_dir) / f"{name}-{os.getpid()}.jsonl" if test_dir else None
    )
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    _state = _Telemetry(name, tracer_provider, meter_provider, dump)
    log.info(
        "telemetry on",
        extra={"service_name": service_name(name), "otlp": bool(endpoint), "test": bool(test_dir)},
    )
    return True


def shutdown_telemetry() -> None:
    """Flushes and stops the providers (test mode: writes the JSON lines file)."""
    global _state
    state, _state = _state, None
    if state is None:
        return
    try:
        state.meter_provider.force_flush()
        if state.dump is not None:
            state.dump.write(state.meter_provider)
        state.tracer_provider.shutdown()
        state.meter_provider.shutdown()
    except Exception:
        log.exception("telemetry shutdown failed")


def enabled() -> bool:
    return _state is not None


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """Tracing and ``rpc.server.call.duration`` for a server; none when telemetry is off."""
    if _state is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    from switchboard.telemetry_rpc import RpcDurationInterceptor

    # The duration interceptor innermost: it sees the registered handler, stable per method.
    return [aio_server_interceptor(), RpcDurationInterceptor()]  # type: ignore[no-untyped-call]


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Client spans carrying ``traceparent`` and ``baggage``; none when telemetry is off."""
    if _state is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    interceptors: list[grpc.aio.ClientInterceptor] = aio_client_interceptors()  # type: ignore[no-untyped-call]
    return interceptors


_tracer: trace.Tracer | None = None


def tracer() -> trace.Tracer:
    """The process's tracer, looked up once: before a provider is installed the API
    hands out a proxy that follows the provider set later (each lookup reads the
    environment, a cost on every turn)."""
    global _tracer
    if _tracer is None:
        _tracer = trace.get_tracer(TRACER_NAME)
    return _tracer


def safe_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Only the keys of :data:`SAFE_ATTRIBUTE_KEYS`, values as OpenTelemetry takes them."""
    return {
        key: value
        for key, value in attributes.items()
        if key in SAFE_ATTRIBUTE_KEYS and isinstance(value, str | bool | int | float)
    }


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    links: list[Link] | None = None,
) -> Iterator[Span]:
    """A span around a block, current inside it; unsafe attribute keys are dropped."""
    with tracer().start_as_current_span(
        name, kind=kind, attributes=safe_attributes(attributes or {}), links=links
    ) as current:
        yield current


def start_span(name: str, attributes: Mapping[str, Any] | None = None) -> Span:
    """A span the caller ends (a turn that ends in another callback); not made current."""
    return tracer().start_span(name, attributes=safe_attributes(attributes or {}))


def set_attributes(target: Span, attributes: Mapping[str, Any]) -> None:
    target.set_attributes(safe_attributes(attributes))


@contextmanager
def call_scope(call_id: str, traceparent: str = "") -> Iterator[None]:
    """Puts ``call.id`` in the baggage: every hop and span below it knows the call.

    With a stored ``traceparent`` (a job's), the spans below join that call's trace.
    """
    parent = parent_context(traceparent)
    token = context.attach(baggage.set_baggage(CALL_ID, call_id, parent))
    try:
        yield
    finally:
        context.detach(token)


def current_call_id() -> str:
    value = baggage.get_baggage(CALL_ID)
    return str(value) if value is not None else ""


def current_traceparent() -> str:
    """The W3C ``traceparent`` of the current span ("" outside any recorded span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", "")


def parent_context(traceparent: str) -> context.Context | None:
    """The context a stored ``traceparent`` names: work done later joins that trace."""
    if not traceparent:
        return None
    return propagate.extract({"traceparent": traceparent})


def link_to(traceparent: str) -> list[Link]:
    """A span link to the span a stored ``traceparent`` names (none if it names none)."""
    if not traceparent:
        return []
    remote = trace.get_current_span(propagate.extract({"traceparent": traceparent}))
    span_context = remote.get_span_context()
    return [Link(span_context)] if span_context.is_valid else []
