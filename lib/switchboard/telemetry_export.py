"""The SDK side of :mod:`switchboard.telemetry`: providers, OTLP export, the test dump.

Imported only when telemetry is on, so a service with telemetry off never loads the SDK.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from opentelemetry import baggage
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

CALL_ID = "call.id"


class CallIdFromBaggage(SpanProcessor):
    """Every span started under a call carries its ``call.id`` (from the baggage)."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        call_id = baggage.get_baggage(CALL_ID, parent_context)
        if call_id is not None and span.attributes is not None and CALL_ID not in span.attributes:
            span.set_attribute(CALL_ID, str(call_id))

    def on_end(self, span: ReadableSpan) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


# FastAPI's own HTTP spans record the raw path and query (``/call?phone_number=…``).
REDACTED_URL_KEYS = ("url.path", "url.query", "url.full")
REDACTED = "[redacted]"


class RedactUrls(SpanProcessor):
    """Overwrites raw URLs on HTTP spans as they start: the span name keeps the route."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        attributes = span.attributes or {}
        for key in REDACTED_URL_KEYS:
            if key in attributes:
                span.set_attribute(key, REDACTED)

    def on_end(self, span: ReadableSpan) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class JsonLinesDump:
    """Test mode: finished spans kept in memory, written with the metrics on shutdown."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricReader()
        self._written = threading.Lock()

    def write(self, meter_provider: MeterProvider) -> None:
        if not self._written.acquire(blocking=False):
            return
        lines = [json.dumps({"span": span_record(s)}) for s in self.spans.get_finished_spans()]
        data = self.metrics.get_metrics_data()
        for resource_metrics in data.resource_metrics if data is not None else []:
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    lines.extend(json.dumps({"metric": m}) for m in metric_records(metric))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def span_record(span: ReadableSpan) -> dict[str, Any]:
    context = span.context
    parent = span.parent
    return {
        "service": span.resource.attributes.get("service.name", ""),
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}" if context else "",
        "span_id": f"{context.span_id:016x}" if context else "",
        "parent_id": f"{parent.span_id:016x}" if parent else "",
        "start": span.start_time,
        "end": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "links": [f"{link.context.trace_id:032x}" for link in span.links],
        "events": [{"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events],
    }


def metric_records(metric: Any) -> list[dict[str, Any]]:
    records = []
    for point in metric.data.data_points:
        record: dict[str, Any] = {
            "name": metric.name,
            "unit": metric.unit,
            "attributes": dict(point.attributes or {}),
        }
        if hasattr(point, "count"):  # a histogram
            record.update(count=point.count, sum=point.sum)
        else:
            record["value"] = point.value
        records.append(record)
    return records


def build_providers(
    resource: Resource, endpoint: str, dump_path: Path | None
) -> tuple[TracerProvider, MeterProvider, JsonLinesDump | None]:
    """OTLP/HTTP exporters when ``endpoint`` is set, the JSON lines dump when a path is."""
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(CallIdFromBaggage())
    tracer_provider.add_span_processor(RedactUrls())
    readers: list[MetricReader] = []
    dump = JsonLinesDump(dump_path) if dump_path is not None else None
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The exporters read OTEL_EXPORTER_OTLP_ENDPOINT (and its headers) themselves.
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    if dump is not None:
        tracer_provider.add_span_processor(SimpleSpanProcessor(dump.spans))
        readers.append(dump.metrics)
    return tracer_provider, MeterProvider(resource=resource, metric_readers=readers), dump
