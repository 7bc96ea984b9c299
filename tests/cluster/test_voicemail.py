"""Answering machines on outbound voice calls, through the five real services.

The callee's audio is Piper's (Speech.Speak) at 8 kHz, five times faster than real
time: a voicemail greeting followed by a 1 kHz beep, or a person's "hello?". The
dialer's own detector decides (the simulator has no carrier detection).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from switchboard.config import LlmSettings
from switchboard_cli.evaluation.command import EVAL_NOW
from switchboard_cli.evaluation.judge import CallJudge
from switchboard_cli.evaluation.report import render_table
from switchboard_cli.evaluation.runner import EvalOptions, run_suite
from switchboard_cli.evaluation.spec import load_suite
from switchboard_cli.launcher import Cluster
from switchboard_cli.local import Endpoints
from switchboard_cli.scenario import Scenario
from switchboard_cli.scenario_voice import VoiceCallee
from tests.cluster.harness import unique_number

ROOT = Path(__file__).parents[2]
SPEED = 5.0
GREETING = (
    "Hi, you've reached Pat. I can't take your call right now, "
    "please leave a message after the tone."
)


def _callee(cluster: Cluster, scenario: Scenario) -> VoiceCallee:
    return VoiceCallee(
        scenario,
        cluster.gateway_url,
        cluster.api_key,
        cluster.ports.grpc_address("dialer"),
        cluster.ports.grpc_address("speech"),
        sample_rate=8000,
        speed=SPEED,
        transcribe_bot=False,
    )


def test_a_voicemail_greeting_gets_the_message_after_the_beep_and_a_call_again(
    cluster: Cluster, api: httpx.Client
) -> None:
    scenario = Scenario.model_validate(
        {
            "phone_number": unique_number(),
            "customer": [{"say": GREETING, "at_answer": True, "beep_ms": 500}],
        }
    )
    callee = _callee(cluster, scenario)
    result = asyncio.run(callee.run(limit_sec=120))

    assert result.end_reason == "voicemail"
    timeline = callee.timeline
    assert len(timeline.speech_end) == 1  # the beep's last frame left the phone
    # Not a word of the bot before the beep ended; the message soon after it (the bound
    # is wall-clock time, loose for a loaded machine).
    assert timeline.bot_first, "the bot left no message"
    after_beep_sec = timeline.bot_first[0] - timeline.speech_end[0]
    assert 0 < after_beep_sec < 2.0, after_beep_sec

    call: dict[str, Any] = api.get(f"/call/{result.call['call_id']}").json()
    assert call["state"] == "ended"
    assert call["next_action"]["action"] == "call_again"
    assert call["claim"] == {}
    said = [m for m in call["messages"] if m["persona"] == "assistant" and m["content"]]
    assert [m["content"] for m in said] == [
        "Hello, this is Joe from Contoso Insurance. We tried to reach you and will call "
        "again later. You can also call us back at 4 1 5, 5 5 5, 0 1 9 9. Goodbye."
    ]
    tool_lines = [m["content"] for m in call["messages"] if m["persona"] == "tool"]
    assert "answered_by: machine" in tool_lines
    # The held greeting was never heard: kept only as an empty, interrupted line.
    greeting = [m for m in call["messages"] if m["persona"] == "assistant" and not m["content"]]
    assert all(m["interrupted"] for m in greeting)


def test_a_person_saying_hello_is_greeted_and_the_call_goes_on(cluster: Cluster) -> None:
    scenario = Scenario.model_validate(
        {
            "phone_number": unique_number(),
            "request": {
                "claim": [{"name": "incident_description", "type": "text", "description": "what"}]
            },
            "customer": [
                {"say": "Hello?", "at_answer": True},
                "A pipe burst under the sink and flooded the kitchen floor.",
                "No, that's all, thank you. Goodbye!",
            ],
        }
    )
    callee = _callee(cluster, scenario)
    result = asyncio.run(callee.run(limit_sec=120))

    assert result.end_reason != "voicemail"
    assert "flooded the kitchen floor" in result.call["claim"].get("incident_description", "")
    # "hello?" → the greeting: the endpointing silence, the transcript, the decision (a
    # wall-clock bound, loose for a loaded machine; bench/voice/answer_screen.py measures).
    hello_to_greeting_sec = callee.timeline.bot_first[0] - callee.timeline.speech_end[0]
    assert 0 < hello_to_greeting_sec < 2.0, hello_to_greeting_sec


def test_the_voicemail_scenarios_pass_in_voice_mode(cluster: Cluster) -> None:
    specs = [
        spec
        for spec in load_suite(ROOT / "scenarios" / "eval" / "callers")
        if "voicemail" in spec.tags
    ]
    assert {s.name for s in specs} >= {"voicemail", "hello_at_answer"}
    endpoints = Endpoints(
        cluster.gateway_url,
        cluster.api_key,
        cluster.ports.grpc_address("dialer"),
        cluster.ports.grpc_address("speech"),
        cluster.ports.grpc_address("store"),
    )
    options = EvalOptions(
        call_date=datetime.fromisoformat(EVAL_NOW), voice=True, speed=SPEED, concurrency=2
    )
    reports = asyncio.run(run_suite(specs, endpoints, options, CallJudge(LlmSettings())))
    assert all(r.passed for r in reports), render_table(reports, [])
