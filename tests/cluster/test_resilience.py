"""A service dying mid-call must not end the call or lose anything said."""

from __future__ import annotations

import asyncio
import threading

from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import Scenario, SimulatedCallee
from tests.cluster.harness import unique_number

CLAIM = [
    {"name": "incident_datetime", "type": "datetime", "description": "when it happened"},
    {"name": "incident_description", "type": "text", "description": "what happened"},
    {"name": "policyholder_email", "type": "email", "description": "your e-mail address"},
]
LINES = [
    "It happened on the third of March at 10 am.",
    "A tree fell on the fence.",
    "mary at example dot com",
    "goodbye",
]


def test_killing_the_brain_mid_call_loses_no_message_and_no_claim_field(cluster: Cluster) -> None:
    def crash_brain_before_the_second_answer(index: int) -> None:
        if index == 1:
            cluster.kill("brain")  # SIGKILL: nothing is flushed, as in a real crash
            # The callee speaks while the brain is down; it comes back shortly after.
            threading.Timer(0.3, cluster.restart, ["brain"]).start()

    callee = SimulatedCallee(
        Scenario.model_validate(
            {"phone_number": unique_number(), "request": {"claim": CLAIM}, "customer": LINES}
        ),
        cluster.gateway_url,
        cluster.api_key,
        cluster.ports.grpc_address("dialer"),
        before_line=crash_brain_before_the_second_answer,
    )
    result = asyncio.run(callee.run(limit_sec=60))
    call = result.call

    assert call["claim"] == {
        "incident_datetime": "2026-03-03T10:00:00-08:00",
        "incident_description": "A tree fell on the fence.",
        "policyholder_email": "mary@example.com",
    }
    human = [m["content"] for m in call["messages"] if m["persona"] == "human" and m["content"]]
    assert human == LINES  # each line stored once, in order
    turns = [m for m in call["messages"] if m["persona"] == "assistant"]
    assert len(turns) == len(LINES) + 1  # the greeting, then one answer per line
    bot_heard = [text for speaker, text in result.heard if speaker == "bot"]
    assert len(bot_heard) == len(set(bot_heard))  # nothing was said twice
