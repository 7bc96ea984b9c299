"""A speakerphone's echo through the five real services: Piper speaks, Whisper listens.

The simulated callee mixes the bot's audio its speaker played back into its uplink,
10 dB down and 200 ms late. The bot must not stop for its own voice; a caller who
talks over it still stops it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import Scenario, SimulationResult, claim_mismatches
from switchboard_cli.scenario_voice import VoiceCallee
from tests.cluster.harness import unique_number

DESCRIPTION = "A pipe burst under the sink and flooded the kitchen floor."
# Whisper tiny.en sometimes hears "I piped burst": the words after it are stable.
EXPECT_CLAIM = {"incident_description": "under the sink and flooded the kitchen floor"}
CLAIM = [{"name": "incident_description", "type": "text", "description": "what happened"}]
# The callee's clock runs this much faster than real time. The media clock runs with it
# but the recogniser's delays do not, so on a loaded machine a faster call hears its echo
# late, in media time, and the text rule's tail (the last words played) has moved on.
SPEED = 2.0


def _echoing_call(
    cluster: Cluster, customer: list[Any], claim: list[dict[str, str]] = CLAIM
) -> tuple[VoiceCallee, SimulationResult]:
    scenario = Scenario.model_validate(
        {
            "phone_number": unique_number(),
            "request": {"claim": claim},
            "customer": customer,
            "echo_db": -10,
            "echo_delay_ms": 200,
        }
    )
    callee = VoiceCallee(
        scenario,
        cluster.gateway_url,
        cluster.api_key,
        cluster.ports.grpc_address("dialer"),
        cluster.ports.grpc_address("speech"),
        sample_rate=8000,
        speed=SPEED,
    )
    result = asyncio.run(callee.run(limit_sec=120))
    assert result.end_reason not in ("stream_closed", "")
    return callee, result


def _assistant_messages(api: httpx.Client, result: SimulationResult) -> list[dict[str, Any]]:
    call: dict[str, Any] = api.get(f"/call/{result.call['call_id']}").json()
    return [m for m in call["messages"] if m["persona"] == "assistant"]


def test_the_bots_own_voice_echoed_back_does_not_interrupt_it(
    cluster: Cluster, api: httpx.Client
) -> None:
    callee, result = _echoing_call(cluster, [DESCRIPTION, "No, that's all, thank you. Goodbye!"])

    # The first echo stops the bot for a moment (nothing tells echo from a caller
    # before the words); from then on the line is known to echo and nothing stops it.
    assert len(callee.timeline.cleared) <= 1
    said = _assistant_messages(api, result)
    assert len(said) >= 2
    assert [m["content"] for m in said if m["interrupted"]] == []
    # The caller's answer reached the brain without the echo run into it.
    claim = result.call.get("claim", {})
    assert claim_mismatches(EXPECT_CLAIM, claim) == [], claim


def test_a_caller_talking_over_the_bot_and_its_echo_still_interrupts_it(
    cluster: Cluster, api: httpx.Client
) -> None:
    # The caller starts 300 ms into the greeting, as its echo does: one utterance,
    # the echo's words in front of the caller's. (Later in the call, once the line is
    # known to echo, the audio-level double-talk check stops the bot: see the next test.)
    callee, result = _echoing_call(
        cluster,
        [{"say": DESCRIPTION, "interrupt_after_ms": 300}, "No, that's all, thank you. Goodbye!"],
    )

    assert len(callee.timeline.bot_stopped) == 1
    greeting = _assistant_messages(api, result)[0]
    assert greeting["interrupted"] is True
    claim = result.call.get("claim", {})
    assert claim_mismatches(EXPECT_CLAIM, claim) == [], claim


DAMAGE = "The cabinet doors and the floor tiles are ruined."
TWO_FIELDS = [*CLAIM, {"name": "damaged_items", "type": "text", "description": "what was damaged"}]


def test_on_a_line_known_to_echo_a_caller_talking_over_the_bot_stops_it_within_frames(
    cluster: Cluster, api: httpx.Client
) -> None:
    # The greeting's echo makes the line a known echoing one (and teaches the dialer
    # the echo path); the caller answers, then talks over the bot's next question.
    # Whisper gives no partial transcripts and the echo keeps the utterance going, so
    # only the audio-level double-talk check can stop the bot before it finishes.
    callee, result = _echoing_call(
        cluster,
        [
            DESCRIPTION,
            {"say": DAMAGE, "interrupt_after_ms": 600},
            "No, that's all, thank you. Goodbye!",
        ],
        TWO_FIELDS,
    )

    assert len(callee.timeline.barge_in) == 1 and len(callee.timeline.bot_stopped) == 1
    # At the phone, in the call's media time.
    stopped_ms = (callee.timeline.bot_stopped[0] - callee.timeline.barge_in[0]) * 1000 * SPEED
    assert stopped_ms < 1000, f"the bot stopped {stopped_ms:.0f} ms after the caller's onset"
    said = _assistant_messages(api, result)
    assert [m["interrupted"] for m in said[:2]] == [False, True], said
    # The caller's words reached the brain, without the echo in front of them.
    claim = result.call.get("claim", {})
    # Whisper tiny.en sometimes hears "four tiles": the words after it are stable.
    expected = {**EXPECT_CLAIM, "damaged_items": "tiles are ruined"}
    assert claim_mismatches(expected, claim) == [], claim
