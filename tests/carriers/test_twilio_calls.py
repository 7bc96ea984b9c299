"""Twilio end to end: the five services as processes, the real ``twilio`` SDK against
a fake Twilio, the callee a Media Stream speaking Piper's voice (see fake_twilio.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import websockets

from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_testing.fake_twilio import (
    FakeCall,
    MediaStreamPhone,
    loud_frames,
    piper_voice,
    stream_of,
)
from tests.carriers.conftest import BOT_NUMBER, TwilioRig
from tests.cluster.harness import unique_number

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
        _voices[text] = asyncio.run(piper_voice(rig.cluster.ports.grpc_address("speech"), text))
    return _voices[text]


def call_of(rig: TwilioRig, call_id: str) -> dict[str, Any]:
    reply = rig.api.get(f"/call/{call_id}")
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()
    return data


def essentials(call: dict[str, Any]) -> tuple[Any, ...]:
    """What a carrier callback could change (the post-call report comes on its own)."""
    return call["state"], call["state_reason"], call["claim"], call["messages"]


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
        await phone.wait_for("the greeting's mark", phone.heard.turns_played, TURN_SEC)
        await phone.say(spoken)
        await phone.wait_for(
            "the claim",
            lambda: call_of(rig, call_id)["claim"].get("incident_datetime"),
            TURN_SEC,
        )
        await phone.wait_for(
            "the recap's mark", lambda: len(phone.heard.turns_played()) >= 2, TURN_SEC
        )
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
    # A mark after each sentence: the greeting's three and the recap's, named turn/index.
    greeting_turn = phone.heard.turns_played()[0]
    sentences = phone.heard.sentences_played()
    assert [f"{greeting_turn}/{i}" for i in range(3)] == sentences[:3], sentences

    # The post-call summary is texted through Twilio once the report is written.
    summary = wait_call(rig, call_id, lambda c: c["sms_summary"])["sms_summary"]
    deadline = time.monotonic() + 20
    texted = [fake.params["To"], BOT_NUMBER, summary]
    while [[m["To"], m["From"], m["Body"]] for m in rig.twilio.messages].count(texted) != 1:
        assert time.monotonic() < deadline, f"no SMS summary: {rig.twilio.messages}"
        time.sleep(0.2)

    # Twilio retries and replays: the same signed callbacks again change nothing.
    before = essentials(call_of(rig, call_id))
    assert rig.twilio.status(fake, "completed").status_code == 204
    assert rig.twilio.answering_machine(fake, "machine_start").status_code == 204
    assert essentials(call_of(rig, call_id)) == before


def test_barge_in_sends_clear_at_once_and_the_history_keeps_only_what_was_played(
    twilio_rig: TwilioRig,
) -> None:
    rig = twilio_rig
    spoken = voice(rig, ANSWER)
    call_id, fake = place(rig)

    async def interrupt() -> MediaStreamPhone:
        phone = await answer(rig, fake)
        # Half a second into the greeting (about 7 s long), the callee talks over it.
        await phone.wait_for("the greeting", lambda: loud_frames(phone.heard.media) > 25, TURN_SEC)
        await phone.say(spoken)
        await phone.wait_for("a clear", lambda: phone.heard.clears, 5)
        await phone.wait_for(
            "the claim",
            lambda: call_of(rig, call_id)["claim"].get("incident_datetime"),
            TURN_SEC,
        )
        await phone.hang_up()
        return phone

    phone = asyncio.run(interrupt())
    cleared = phone.heard.clears[0]
    before = [t for t, _ in phone.heard.media if t < cleared]
    after = [t for t, _ in phone.heard.media if t > cleared]
    # The greeting was streaming up to the clear, and nothing of it came after.
    assert cleared - before[-1] < 0.1, "the greeting had stopped before the clear"
    assert not after or after[0] - cleared > 0.3, "bot audio kept coming after the clear"
    call = wait_call(rig, call_id, lambda c: c["state"] == "ended")
    greeting = next(m for m in call["messages"] if m["persona"] == "assistant")
    assert greeting["interrupted"] is True
    assert "when it happened" not in greeting["content"], greeting
    assert call["claim"] == {"incident_datetime": EXPECTED_DATETIME}


def test_touch_tones_an_sms_and_a_transfer_go_through_twilio(twilio_rig: TwilioRig) -> None:
    rig = twilio_rig
    call_id, fake = place(rig)
    dialer = rig.cluster.ports.grpc_address("dialer")

    async def call() -> MediaStreamPhone:
        phone = await answer(rig, fake)
        await phone.wait_for("the greeting", lambda: loud_frames(phone.heard.media) > 10, TURN_SEC)
        await phone.dtmf("4")

        def tone_stored() -> bool:
            messages = call_of(rig, call_id)["messages"]
            return any(m["action"] == "dtmf" and m["content"] == "4" for m in messages)

        await phone.wait_for("the touch tone in the transcript", tone_stored, 10)
        async with grpc.aio.insecure_channel(dialer) as channel:
            stub = dialer_pb2_grpc.DialerStub(channel)  # type: ignore[no-untyped-call]
            sent = await stub.SendSms(
                dialer_pb2.SendSmsRequest(
                    call_id=call_id, to=fake.params["To"], text="Your claim number is 42."
                )
            )
            assert sent.provider_message_id.startswith("SM")
            moved = await stub.Transfer(dialer_pb2.TransferCallRequest(call_id=call_id))
            assert moved.accepted
        await phone.wait_for("the end of the media stream", lambda: phone.closed_by_bot, 15)
        return phone

    asyncio.run(call())
    update = rig.twilio.wait_update(fake.sid)
    assert update["Twiml"].endswith("<Response><Dial>+14155550199</Dial></Response>")
    sms = rig.twilio.messages[-1]
    assert (sms["To"], sms["From"], sms["Body"]) == (
        fake.params["To"],
        BOT_NUMBER,
        "Your claim number is 42.",
    )
    call = wait_call(rig, call_id, lambda c: c["state"] == "ended")
    assert call["state_reason"] == "transferred"
    assert any(m["action"] == "sms" for m in call["messages"])


def test_unsigned_or_missigned_callbacks_are_refused_and_change_nothing(
    twilio_rig: TwilioRig,
) -> None:
    rig = twilio_rig
    call_id, fake = place(rig)
    assert rig.twilio.status(fake, "ringing").status_code == 204
    before = call_of(rig, call_id)
    url = fake.params["StatusCallback"]
    params = {"CallSid": fake.sid, "CallStatus": "busy", "AccountSid": rig.twilio.account_sid}
    assert rig.twilio.post_signed(url, params, signature=None).status_code == 403
    assert rig.twilio.post_signed(url, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    # Signed, but for another call's URL (its token does not match this call id).
    forged = url.replace(f"call_id={call_id}", "call_id=someone-else")
    assert rig.twilio.post_signed(forged, params).status_code == 403
    voice_url = f"{rig.cluster.gateway_url}/twilio/voice"
    inbound = {"CallSid": "CAforged", "From": unique_number(), "To": BOT_NUMBER}
    assert rig.twilio.post_signed(voice_url, inbound, signature=None).status_code == 403
    assert call_of(rig, call_id) == before

    async def unsigned_socket() -> None:
        phone = MediaStreamPhone(rig.twilio, fake.sid, fake.params["Twiml"])
        try:
            await phone.connect(signature="bm90IGEgc2lnbmF0dXJl")
        except websockets.InvalidStatus as exc:
            assert exc.response.status_code == 403
        else:
            raise AssertionError("an unsigned media socket was accepted")

    asyncio.run(unsigned_socket())
    assert call_of(rig, call_id) == before

    # The real "busy" ends the ring; the same callback again changes nothing.
    assert rig.twilio.status(fake, "busy").status_code == 204
    failed = wait_call(rig, call_id, lambda c: c["state"] == "failed")
    assert failed["state_reason"] == "busy"
    assert rig.twilio.status(fake, "busy").status_code == 204
    assert rig.twilio.status(fake, "in-progress").status_code == 204
    assert essentials(call_of(rig, call_id)) == essentials(failed)


def test_an_inbound_twilio_call_is_answered_by_the_bot(twilio_rig: TwilioRig) -> None:
    rig = twilio_rig
    caller = unique_number()
    sid, twiml = rig.twilio.ring_inbound(
        f"{rig.cluster.gateway_url}/twilio/voice", caller, BOT_NUMBER
    )
    _, parameters = stream_of(twiml)
    call_id = parameters["call_id"]

    async def talk() -> MediaStreamPhone:
        phone = MediaStreamPhone(rig.twilio, sid, twiml)
        await phone.connect()
        await phone.wait_for("the greeting's mark", phone.heard.turns_played, TURN_SEC)
        await phone.hang_up()
        return phone

    phone = asyncio.run(talk())
    assert loud_frames(phone.heard.media) > 50
    call = wait_call(rig, call_id, lambda c: c["state"] == "ended")
    assert call["direction"] == "inbound"
    assert call["state_reason"] == "caller_hangup"
    # Twilio retries a webhook it got no answer for: the same CallSid is not taken twice.
    again = rig.twilio.post_signed(
        f"{rig.cluster.gateway_url}/twilio/voice",
        {"AccountSid": rig.twilio.account_sid, "CallSid": sid, "From": caller, "To": BOT_NUMBER},
    )
    assert "<Reject" in again.text
