"""One voice call through the five services, traced: one trace, spans from all five.

The services run as processes with ``SWITCHBOARD_TELEMETRY_TEST_DIR`` set: each keeps
its finished spans and metrics in memory (``InMemorySpanExporter`` with a
``SimpleSpanProcessor``, ``InMemoryMetricReader``) and writes them as JSON lines when
it stops. The test stops the cluster, reads every file and checks the call's trace.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from switchboard.telemetry import INSTRUMENTATION_ATTRIBUTE_KEYS, SAFE_ATTRIBUTE_KEYS
from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_cli.scenario import Scenario
from switchboard_cli.scenario_voice import VoiceCallee
from tests.cluster.harness import FIXED_NOW, unique_number

SERVICES = {f"switchboard-{name}" for name in ("gateway", "dialer", "speech", "brain", "store")}
LINES = ["The kitchen window was broken by a storm.", "No, that's all. Goodbye!"]


@pytest.fixture(scope="module")
def traced_call(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Runs one voice call on a traced cluster, stops it; the call and what was exported."""
    root = tmp_path_factory.mktemp("traced")
    exported = root / "telemetry"
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD_TELEMETRY_TEST_DIR": str(exported),
        },
    )
    scenario = Scenario.model_validate(
        {
            "phone_number": unique_number(),
            "request": {
                "claim": [
                    {"name": "incident_description", "type": "text", "description": "what happened"}
                ]
            },
            "customer": LINES,
        }
    )
    cluster.start()
    try:
        callee = VoiceCallee(
            scenario,
            cluster.gateway_url,
            cluster.api_key,
            cluster.ports.grpc_address("dialer"),
            cluster.ports.grpc_address("speech"),
            sample_rate=8000,
            speed=5.0,
            transcribe_bot=False,
        )
        result = asyncio.run(callee.run(limit_sec=120))
        # A phone number in a query string must not reach the gateway's HTTP spans.
        listed = httpx.get(
            f"{cluster.gateway_url}/call",
            params={"phone_number": scenario.phone_number},
            headers={"Authorization": f"Bearer {cluster.api_key}"},
        )
        assert listed.status_code == 200, listed.text
    finally:
        cluster.stop()  # SIGTERM: every service writes its file on the way out
    records = [
        json.loads(line)
        for path in sorted(exported.glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    yield {
        "call_id": result.call["call_id"],
        "number": scenario.phone_number,
        "spans": [r["span"] for r in records if "span" in r],
        "metrics": [r["metric"] for r in records if "metric" in r],
    }


def _call_trace(traced: dict[str, Any]) -> list[dict[str, Any]]:
    roots = [
        s
        for s in traced["spans"]
        if s["name"] == "call" and s["attributes"].get("call.id") == traced["call_id"]
    ]
    assert len(roots) == 1, "one call span per call"
    return [s for s in traced["spans"] if s["trace_id"] == roots[0]["trace_id"]]


def test_one_call_is_one_trace_holding_spans_from_all_five_services(
    traced_call: dict[str, Any],
) -> None:
    trace = _call_trace(traced_call)
    assert {s["service"] for s in trace} == SERVICES
    names = {s["name"] for s in trace}
    expected = {
        "call",
        "turn",
        "brain.turn",
        "stt.utterance",
        "tts.speak",
        "store.write",
        "post_call",
    }
    assert expected <= names
    # Below the call span, the other services know the call from the baggage.
    brain = [s for s in trace if s["service"] == "switchboard-brain" and s["kind"] == "SERVER"]
    assert brain and all(s["attributes"].get("call.id") == traced_call["call_id"] for s in brain)


def test_the_turn_spans_follow_the_callers_lines_in_order(traced_call: dict[str, Any]) -> None:
    turns = sorted(
        (s for s in _call_trace(traced_call) if s["name"] == "turn"), key=lambda s: s["start"]
    )
    assert len(turns) >= len(LINES)
    assert [t["attributes"]["turn.index"] for t in turns] == list(range(1, len(turns) + 1))
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(turns))


def test_the_answer_latency_histogram_is_filled(traced_call: dict[str, Any]) -> None:
    answers = [m for m in traced_call["metrics"] if m["name"] == "call.answer.latency"]
    assert sum(m["count"] for m in answers) >= 1
    assert all(m["unit"] == "s" and 0 < m["sum"] / m["count"] < 30 for m in answers)
    durations = [m for m in traced_call["metrics"] if m["name"] == "rpc.server.call.duration"]
    assert {m["attributes"]["rpc.service"] for m in durations} >= {
        "switchboard.v1.Brain",
        "switchboard.v1.Speech",
        "switchboard.v1.Store",
        "switchboard.v1.Dialer",
    }


def test_the_live_call_count_rose_and_is_back_to_zero(traced_call: dict[str, Any]) -> None:
    [live] = [m for m in traced_call["metrics"] if m["name"] == "call.live"]
    assert live["value"] == 0  # one call counted in, and out again when it ended


def test_no_span_carries_personal_data(traced_call: dict[str, Any]) -> None:
    allowed = SAFE_ATTRIBUTE_KEYS | INSTRUMENTATION_ATTRIBUTE_KEYS
    personal = [traced_call["number"], traced_call["number"].lstrip("+"), *LINES]
    for span in traced_call["spans"]:
        assert set(span["attributes"]) <= allowed, span["name"]
        text = json.dumps(span)
        assert not [p for p in personal if p in text], span["name"]


def test_every_service_wrote_its_file(traced_call: dict[str, Any]) -> None:
    assert {s["service"] for s in traced_call["spans"]} == SERVICES
