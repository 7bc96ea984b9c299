"""Caller ID is not authentication: a spoofed inbound caller hears nothing stored."""

from __future__ import annotations

import asyncio

from switchboard_cli.launcher import Cluster
from tests.cluster.harness import simulate, unique_number
from tests.cluster.inbound_caller import call_in

CLAIM = [
    {"name": "incident_datetime", "type": "datetime", "description": "when it happened"},
    {"name": "policyholder_email", "type": "email", "description": "your e-mail address"},
    {"name": "incident_description", "type": "text", "description": "what happened"},
]
# What the victim said, and how the bot would read it back.
SECRETS = ("victim", "example.org", "pipe", "kitchen", "23rd", "November", "9 am", "9:00")


def _victim_call(cluster: Cluster, number: str, lines: list[object]) -> dict[str, object]:
    result = simulate(
        cluster,
        {
            "phone_number": number,
            "request": {"claim": CLAIM, "task": "Collect the details of a water damage claim."},
            "customer": lines,
        },
    )
    return result.call


def _spoofed(cluster: Cluster, number: str, lines: list[str]):  # type: ignore[no-untyped-def]
    return asyncio.run(call_in(cluster.ports.grpc_address("dialer"), number, lines))


def test_a_spoofed_caller_does_not_resume_a_completed_call_nor_hear_its_values(
    cluster: Cluster,
) -> None:
    number = unique_number()
    victim = _victim_call(
        cluster,
        number,
        [
            "It happened yesterday at 9 am.",
            "victim at example dot org",
            "A pipe burst in the kitchen.",
            "No, that's all.",
        ],
    )
    assert victim["state"] == "ended"
    assert victim["state_reason"] == "claim_complete"

    stranger = _spoofed(cluster, number, ["What did I tell you last time?", "goodbye"])

    assert stranger.call_id and stranger.call_id != victim["call_id"]
    spoken = " ".join(stranger.heard)
    assert not [s for s in SECRETS if s in spoken], spoken


def test_a_spoofed_caller_resuming_an_unfinished_call_is_asked_and_hears_no_value(
    cluster: Cluster,
) -> None:
    number = unique_number()
    victim = _victim_call(
        cluster,
        number,
        ["It happened yesterday at 9 am.", "victim at example dot org", {"hangup": True}],
    )
    assert victim["claim"]["policyholder_email"] == "victim@example.org"  # type: ignore[index]

    stranger = _spoofed(cluster, number, ["yes", "goodbye"])

    assert stranger.call_id == victim["call_id"]  # unfinished: the callback resumes it
    opening = " ".join(stranger.heard[:3])
    assert "water damage claim" in opening  # the matter is named ...
    assert opening.endswith("Shall we continue where we left off?")  # ... and asked about
    spoken = " ".join(stranger.heard)
    assert not [s for s in SECRETS if s in spoken], spoken
