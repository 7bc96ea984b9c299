"""Voice calls through the five real services: Piper speaks, Whisper listens, 8 kHz.

The simulated callee speaks through Speech.Speak and the dialer's virtual phone,
five times faster than real time; the bot's audio is not transcribed back (that
only serves the printout of ``switchboard simulate --voice``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import Scenario, claim_mismatches
from switchboard_cli.scenario_voice import VoiceCallee
from tests.cluster.harness import unique_number

DESCRIPTION = "A pipe burst under the sink and flooded the kitchen floor."


def test_a_voice_call_with_a_barge_in_fills_the_claim_and_keeps_only_what_was_heard(
    cluster: Cluster, api: httpx.Client
) -> None:
    scenario = Scenario.model_validate(
        {
            "phone_number": unique_number(),
            "request": {
                "claim": [
                    {"name": "incident_description", "type": "text", "description": "what happened"}
                ]
            },
            "customer": [
                # Said over the greeting, 1.5 s into its audio.
                {"say": DESCRIPTION, "interrupt_after_ms": 1500},
                "No, that's all, thank you. Goodbye!",
            ],
            # Whisper tiny.en sometimes hears "I piped burst": the words after it are stable.
            "expect_claim": {
                "incident_description": "under the sink and flooded the kitchen floor"
            },
        }
    )
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

    assert result.end_reason not in ("stream_closed", "")
    assert claim_mismatches(scenario.expect_claim, result.call.get("claim", {})) == []
    assert len(callee.timeline.bot_stopped) == 1  # the barge-in stopped the bot
    call: dict[str, Any] = api.get(f"/call/{result.call['call_id']}").json()
    greeting = next(m for m in call["messages"] if m["persona"] == "assistant")
    assert greeting["interrupted"] is True
    full = "Hello, this is Joe from Contoso Insurance."
    assert full.startswith(greeting["content"]) or greeting["content"].startswith("Hello")
    # The callee saw the bot's words as the dialer played them, not a transcription:
    # each one is part of a stored agent message, word for word.
    bot_said = [text for speaker, text in result.heard if speaker == "bot"]
    stored = " ".join(m["content"] for m in call["messages"] if m["persona"] == "assistant")
    assert len(bot_said) >= 3
    assert [s for s in bot_said if s not in stored] == []
