"""Twilio end to end: the five services as processes, the real ``twilio`` SDK against
a fake Twilio, the callee a Media Stream speaking Piper's voice (see fake_twilio.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.carriers.conftest import BOT_NUMBER, TwilioRig
from tests.carriers.fake_twilio import FakeCall, MediaStreamPhone, loud_frames
from tests.cluster.harness import unique_number
from tests.cluster.test_sip_calls import _synthesise

ANSWER = "It happened yesterday at nine in the morning."
# FIXED_NOW is Tuesday 2026-11-24 in California: yesterday at 9 am, Pacific time.
EXPECTED_DATETIME = "2026-11-23T09:00:00-08:00"
REQUEST: dict[str, Any] = {
    "bot_company": "Contoso Insurance",
    "bot_name": "Joe",
    "agent_phone_number": "+14155550199",
    "task": "Help the customer file a claim for the damage to their home.",
    "lang": "en-US",
    "claim": [{"name": "incident_datetime", "type": "datetime", "description": "when it happened"}],
}
TURN_SEC = 40.0
_voices: dict[str, bytes] = {}


def voice(rig: TwilioRig, text: str) -> bytes:
    """``text`` as the callee says it (Piper through the Speech service), cached."""
    if text not in _voices:
        _voices[text] = asyncio.run(_synthesise(rig.cluster.ports.grpc_address("speech"), text))
    return _voices[text]


def call_of(rig: TwilioRig, call_id: str) -> dict[str, Any]:
    reply = rig.api.get(f"/call/{call_id}")
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()
    return data


def wait_call(rig: TwilioRig, call_id: str, check: Any, within_sec: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + within_sec
    while time.monotonic() < deadline:
        call = call_of(rig, call_id)
        if check(call):
            return call
        time.sleep(0.2)
    raise AssertionError(f"call {call_id} never got there: {call_of(rig, call_id)}; {rig.logs()}")


def place(rig: TwilioRig) -> tuple[str, FakeCall]:
    number = unique_number()
    placed = rig.api.post("/call", json={**REQUEST, "phone_number": number})
    assert placed.status_code in (200, 201), placed.text
    return placed.json()["call_id"], rig.twilio.wait_call(number)


async def answer(rig: TwilioRig, fake: FakeCall) -> MediaStreamPhone:
    """The callee picks up: Twilio reports it and opens the Media Stream."""
    reply = await asyncio.to_thread(rig.twilio.status, fake, "in-progress")
    assert reply.status_code == 204, reply.text
    phone = MediaStreamPhone(rig.twilio, fake.sid, fake.params["Twiml"])
    await phone.connect()
    return phone


def test_a_rest_call_through_twilio_fills_the_claim_from_the_callees_voice(
    twilio_rig: TwilioRig,
) -> None:
    rig = twilio_rig
    spoken = voice(rig, ANSWER)
    call_id, fake = place(rig)
    params = fake.params
    assert params["From"] == BOT_NUMBER
    assert params["MachineDetection"] == "Enable" and params["AsyncAmd"] == "true"
    assert f"call_id={call_id}" in params["StatusCallback"]
    assert params["AsyncAmdStatusCallback"] == params["StatusCallback"]
    assert f"/twilio/media/{call_id}" in params["Twiml"]
    assert rig.twilio.status(fake, "ringing").status_code == 204
    assert call_of(rig, call_id)["state"] == "ringing"

    async def conversation() -> MediaStreamPhone:
        phone = await answer(rig, fake)
        amd = await asyncio.to_thread(rig.twilio.answering_machine, fake, "human")
        assert amd.status_code == 204
        # The greeting and its question are one turn: its mark says it was all played.
        await phone.wait_for("the greeting's mark", lambda: phone.heard.marks, TURN_SEC)
        await phone.say(spoken)
        await phone.wait_for(
            "the claim",
            lambda: call_of(rig, call_id)["claim"].get("incident_datetime"),
            TURN_SEC,
        )
        await phone.wait_for("the recap's mark", lambda: len(phone.heard.marks) >= 2, TURN_SEC)
        await phone.hang_up()
        return phone

    phone = asyncio.run(conversation())
    call = wait_call(rig, call_id, lambda c: c["state"] == "ended")
    assert call["claim"] == {"incident_datetime": EXPECTED_DATETIME}, rig.logs()
    assert call["state_reason"] == "caller_hangup"
    assert loud_frames(phone.heard.media) > 50, "the bot's voice did not reach the phone"
    said = [m for m in call["messages"] if m["persona"] == "assistant" and m["content"]]
    assert "Joe" in " ".join(m["content"] for m in said[:3]), call["messages"]
    assert not any(m["interrupted"] for m in said)
    detected = [m["content"] for m in call["messages"] if m["persona"] == "tool"]
    assert detected == ["answered_by: human"]
