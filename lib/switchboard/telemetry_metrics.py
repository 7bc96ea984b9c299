"""The metrics every service records, named as in ARCHITECTURE.md (seconds, histograms).

Instruments come from the global meter: with telemetry off it is the API's no-op
meter, so recording costs a call; once a provider is installed they record. Their
attributes are provider names, kinds and gRPC names, never personal data.
"""

from __future__ import annotations

from opentelemetry import metrics

# Seconds: a frame's few milliseconds up to a slow model's answer.
LATENCY_BUCKETS_SEC = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0,
]  # fmt: skip

_meter = metrics.get_meter("switchboard")


def _latency(name: str, description: str) -> metrics.Histogram:
    return _meter.create_histogram(
        name,
        unit="s",
        description=description,
        explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_SEC,
    )


ANSWER_LATENCY = _latency(
    "call.answer.latency", "The caller stopped speaking (text: sent the turn) → first bot audio."
)
CUTOFF_LATENCY = _latency(
    "call.cutoff.latency", "The caller started speaking over the bot → the bot's audio stopped."
)
FRAMES_IN_LATENCY = _latency(
    "call.frames.in.latency", "A caller frame from the line → sent to Speech.Listen."
)
FRAMES_OUT_LATENCY = _latency(
    "call.frames.out.latency",
    "A synthesized frame received from Speech.Speak → played to the line.",
)
STT_COMPLETE_LATENCY = _latency(
    "call.stt.complete.latency", "The caller's utterance ended → its final transcript."
)
PROVIDER_TTFB = _latency(
    "provider.time_to_first_byte",
    "A provider request → its first result (attributes provider.kind, provider.name).",
)
LLM_TOKENS = _meter.create_counter(
    "llm.token.usage", unit="{token}", description="LLM tokens by provider and direction."
)
LIVE_CALLS = _meter.create_up_down_counter(
    "call.live",
    unit="{call}",
    description="Calls this dialer replica runs now (an autoscaling signal).",
)
RPC_SERVER_DURATION = _latency(
    "rpc.server.call.duration", "A gRPC call on the server, from its start to its status."
)


def provider_ttfb(kind: str, name: str, seconds: float) -> None:
    """Time to first byte of a ``kind`` (stt, tts, llm) request to provider ``name``."""
    PROVIDER_TTFB.record(seconds, {"provider.kind": kind, "provider.name": name})
