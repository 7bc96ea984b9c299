"""A call's life on the dialer, with a fake store, a scripted brain and simulator phones."""

from __future__ import annotations

import pytest

from switchboard import domain
from switchboard.config import Features
from switchboard.converse import (
    CallerHangup,
    CallTimeUp,
    ConversationStart,
    Dtmf,
    SilenceTimeout,
    UserTurn,
)
from switchboard.errors import FailedPrecondition, InvalidArgument
from switchboard.phone import (
    BotDtmf,
    BotSaid,
    BotTurnDone,
    PhoneCall,
    PhoneCallEnded,
    PhoneConnected,
    PhoneHangUp,
    PhoneRinging,
    PhoneSay,
    PhoneTransferred,
)
from switchboard_dialer.session import HANGUP_FLUSH_SEC, TIME_UP_GRACE_SEC, TRANSFER_FAILED_LINE
from switchboard_dialer.telephony.base import PhoneLine
from switchboard_dialer.telephony.simulator import NO_PHONE_DELAY_SEC, SimulatedLine
from switchboard_testing.dialer_fakes import (
    GREETING,
    STILL_THERE,
    Rig,
    build_rig,
    make_request,
    said,
)


async def test_a_whole_text_call_relays_every_turn_and_ends_when_the_bot_says_goodbye(rig: Rig):
    phone, call = await rig.connect()
    assert call.state is domain.CallState.RINGING

    await phone.send(PhoneSay(text="my car was hit"))
    assert said(await phone.until(BotTurnDone)) == ["You said: my car was hit.", "Anything else?"]
    await phone.send(PhoneSay(text="no, goodbye"))
    events = await phone.until(PhoneCallEnded)

    assert said(events) == ["Goodbye."]
    assert events[-1] == PhoneCallEnded(reason="goodbye")
    assert await rig.ended(call.call_id) == ["dialing", "ringing", "in_progress", "ended:goodbye"]
    turns = rig.brain.requests(UserTurn)
    assert [t.text for t in turns] == ["my car was hit", "no, goodbye"]  # type: ignore[union-attr]


async def test_the_caller_hanging_up_tells_the_brain_and_ends_the_call(rig: Rig):
    phone, call = await rig.connect()

    await phone.send(PhoneHangUp(reason="bye"))

    assert await phone.expect(PhoneCallEnded) == PhoneCallEnded(reason="caller_hangup")
    assert (await rig.ended(call.call_id))[-1] == "ended:caller_hangup"
    assert rig.brain.requests(CallerHangup) == [CallerHangup(reason="caller_hangup")]


async def test_a_hang_up_the_brain_cannot_hear_ends_the_call_after_the_flush_wait(rig: Rig):
    phone, call = await rig.connect()
    rig.brain.kill()
    await rig.clock.settle()

    await phone.send(PhoneHangUp(reason="bye"))
    await rig.clock.elapse(HANGUP_FLUSH_SEC - 0.1)
    assert not rig.app.registry.get(call.call_id).session.ended  # type: ignore[union-attr]

    await rig.clock.elapse(0.1)
    assert rig.store.reasons(call.call_id)[-1] == "ended:caller_hangup"  # no real wait


async def test_a_dropped_phone_stream_ends_the_call_as_line_dropped(rig: Rig):
    phone, call = await rig.connect()

    rig.telephony.unregister(phone.phone)

    assert (await rig.ended(call.call_id))[-1] == "ended:line_dropped"
    assert rig.brain.requests(CallerHangup) == [CallerHangup(reason="line_dropped")]


async def test_a_transfer_tells_the_phone_the_target_and_ends_as_transferred(rig: Rig):
    phone, call = await rig.connect()

    await phone.send(PhoneSay(text="I want a human"))
    events = await phone.until(PhoneCallEnded)

    assert said(events) == ["Let me transfer you."]
    assert events[-2:] == [
        PhoneTransferred(target="+14155550199"),
        PhoneCallEnded(reason="transferred"),
    ]
    assert (await rig.ended(call.call_id))[-2:] == ["transferring:transfer", "ended:transferred"]


async def test_a_transfer_the_carrier_refuses_is_announced_and_the_call_goes_on(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    async def refuse(line: SimulatedLine, target: str) -> None:
        raise FailedPrecondition("all lines are busy")

    # The simulator always completes transfers; a carrier (ACS CallTransferFailed) may not.
    monkeypatch.setattr(SimulatedLine, "transfer", refuse)
    phone, call = await rig.connect()

    await phone.send(PhoneSay(text="I want a human"))
    assert said(await phone.until(BotTurnDone)) == ["Let me transfer you."]
    assert said(await phone.until(BotTurnDone)) == [TRANSFER_FAILED_LINE]
    assert rig.store.reasons(call.call_id)[-2:] == [
        "transferring:transfer",
        "in_progress:transfer_failed",
    ]
    assert rig.app.registry.is_live(call.call_id)
    await phone.send(PhoneSay(text="sorry, I'm here"))
    await phone.until(BotTurnDone)  # the conversation goes on


async def test_silence_after_the_bot_finished_asks_the_brain_on_a_manual_clock():
    rig = build_rig(Features(phone_silence_timeout_sec=20))
    try:
        phone, _ = await rig.connect()

        await rig.clock.elapse(19)
        assert rig.brain.requests(SilenceTimeout) == []
        await rig.clock.elapse(1)
        assert said(await phone.until(BotTurnDone)) == [STILL_THERE]
        await rig.clock.elapse(20)
        assert said(await phone.until(BotTurnDone)) == [STILL_THERE]
        assert rig.brain.requests(SilenceTimeout) == [
            SilenceTimeout(count=1),
            SilenceTimeout(count=2),
        ]

        await phone.send(PhoneSay(text="sorry, I'm here"))
        await phone.until(BotTurnDone)
        await rig.clock.elapse(20)
        await phone.until(BotTurnDone)
        assert rig.brain.requests(SilenceTimeout)[-1] == SilenceTimeout(
            count=1
        )  # counting starts over
    finally:
        await rig.app.stop()


async def test_a_call_longer_than_the_maximum_duration_ends_politely():
    # The caller stays silent for less than the silence timeout: only the limit speaks.
    rig = build_rig(Features(phone_silence_timeout_sec=90), max_call_duration_sec=60)
    try:
        phone, call = await rig.connect()
        await rig.clock.elapse(60)
        events = await phone.until(PhoneCallEnded)
        assert "time limit" in said(events)[0]  # the brain's goodbye
        assert events[-1] == PhoneCallEnded(reason="max_duration")
        assert (await rig.ended(call.call_id))[-1] == "ended:max_duration"
        assert rig.brain.requests(CallTimeUp) == [CallTimeUp()]
        assert rig.store.calls[call.call_id].messages == []  # the brain writes the transcript
    finally:
        await rig.app.stop()


async def test_a_call_past_its_maximum_duration_ends_even_when_the_brain_says_nothing():
    rig = build_rig(max_call_duration_sec=60)
    rig.brain.answers_time_up = False
    try:
        phone, call = await rig.connect()
        await rig.clock.elapse(60)
        await rig.clock.elapse(TIME_UP_GRACE_SEC)
        events = await phone.until(PhoneCallEnded)
        assert events[-1] == PhoneCallEnded(reason="max_duration")
        assert (await rig.ended(call.call_id))[-1] == "ended:max_duration"
    finally:
        await rig.app.stop()


async def test_a_brain_that_dies_mid_turn_is_reconnected_and_no_sentence_is_said_twice(rig: Rig):
    phone, call = await rig.connect()
    rig.brain.die_after_sentences = 1  # the first sentence gets out, then the brain dies

    await phone.send(PhoneSay(text="my car was hit"))
    await rig.clock.elapse(0.1)  # the first reconnect's backoff
    events = await phone.until(BotTurnDone)

    assert said(events) == ["You said: my car was hit.", "Anything else?"]
    assert len([e for e in events if isinstance(e, BotTurnDone)]) == 1
    starts = rig.brain.requests(ConversationStart)
    assert starts == [
        ConversationStart(call.call_id, reconnect=False, sends_dtmf=True),
        ConversationStart(call.call_id, reconnect=True, sends_dtmf=True),
    ]
    turns = rig.brain.requests(UserTurn)
    assert len(turns) == 2 and turns[0] == turns[1]  # re-sent with the same turn id
    # The conversation goes on over the new stream, without a second greeting.
    await phone.send(PhoneSay(text="goodbye"))
    assert said(await phone.until(PhoneCallEnded)) == ["Goodbye."]


async def test_a_line_said_while_the_brain_is_down_reaches_the_new_brain_once(rig: Rig):
    phone, _ = await rig.connect()
    rig.brain.kill()
    await rig.clock.elapse(0.1)  # the stream is lost; reconnects are refused for now

    await phone.send(PhoneSay(text="my car was hit"))  # queued, not yet sent anywhere
    rig.brain.down = False
    await rig.clock.elapse(1.0)  # the next reconnect gets through
    events = await phone.until(BotTurnDone)

    assert said(events) == ["You said: my car was hit.", "Anything else?"]
    # Once: a second copy would make the brain replace the turn with itself.
    assert [t.text for t in rig.brain.requests(UserTurn)] == ["my car was hit"]


async def test_calling_a_number_without_a_phone_fails_with_no_answer(rig: Rig):
    call = await rig.place("+14155550123")

    assert call.state is domain.CallState.DIALING
    await rig.clock.elapse(NO_PHONE_DELAY_SEC)
    assert await rig.ended(call.call_id) == ["dialing", "failed:no_answer"]


async def test_a_phone_that_never_answers_fails_after_the_ring_timeout(rig: Rig):
    phone = rig.phone()
    call = await rig.place()
    await phone.expect(PhoneRinging)
    await rig.clock.elapse(rig.settings.ring_timeout_sec - 0.1)
    assert rig.store.reasons(call.call_id) == ["dialing", "ringing"]

    await rig.clock.elapse(0.1)
    assert await phone.expect(PhoneCallEnded) == PhoneCallEnded(reason="no_answer")
    assert await rig.ended(call.call_id) == ["dialing", "ringing", "failed:no_answer"]


async def test_hanging_up_a_ringing_call_rejects_it(rig: Rig):
    phone = rig.phone()
    call = await rig.place()
    await phone.expect(PhoneRinging)

    await phone.send(PhoneHangUp(reason=""))

    assert await rig.ended(call.call_id) == ["dialing", "ringing", "failed:rejected"]


async def test_a_busy_phone_fails_a_second_call_as_busy(rig: Rig):
    phone, _ = await rig.connect()
    other = await rig.app.dialer.place_call(make_request(task="Another matter."))
    assert (await rig.ended(other.call_id))[-1] == "failed:busy"
    assert phone.phone.busy


async def test_an_auto_answer_phone_connects_by_itself(rig: Rig):
    phone = rig.phone(auto_answer=True)
    call = await rig.place()
    await phone.expect(PhoneRinging)
    assert await phone.expect(PhoneConnected) == PhoneConnected(call_id=call.call_id)
    assert await phone.expect(BotSaid) == BotSaid(turn_id="greet", text=GREETING)


async def test_an_inbound_call_is_answered_and_a_callback_resumes_the_same_call(rig: Rig):
    phone = rig.phone("+14155550142")
    await phone.send(PhoneCall(to_number="+18005550100"))
    connected = await phone.expect(PhoneConnected)
    await phone.until(BotTurnDone)
    await phone.send(PhoneHangUp(reason=""))
    await phone.expect(PhoneCallEnded)
    await rig.ended(connected.call_id)
    first = rig.store.calls[connected.call_id]
    assert first.direction is domain.CallDirection.INBOUND
    assert first.initiate.phone_number == "+14155550142"

    await phone.send(PhoneCall(to_number="+18005550100"))
    again = await phone.expect(PhoneConnected)

    assert again.call_id == connected.call_id


async def test_placing_a_call_to_the_same_request_resumes_the_open_conversation(rig: Rig):
    phone, call = await rig.connect()
    await phone.send(PhoneHangUp(reason=""))
    await rig.ended(call.call_id)

    again = await rig.place()

    assert again.call_id == call.call_id
    assert again.attempt == 2, rig.store.reasons(call.call_id)


async def test_a_live_conversation_cannot_be_placed_twice(rig: Rig):
    _, call = await rig.connect()
    with pytest.raises(FailedPrecondition):
        await rig.place()
    assert rig.app.registry.is_live(call.call_id)


async def test_hang_up_ends_a_live_call_and_reports_whether_it_was_live(rig: Rig):
    phone, call = await rig.connect()

    assert await rig.app.dialer.hang_up(call.call_id, "") is True
    assert await phone.expect(PhoneCallEnded) == PhoneCallEnded(reason="hangup")
    assert (await rig.ended(call.call_id))[-1] == "ended:hangup"
    assert await rig.app.dialer.hang_up(call.call_id, "") is False


async def test_shutdown_hangs_up_live_calls_with_reason_shutdown():
    rig = build_rig()
    phone, call = await rig.connect()

    await rig.app.stop()

    assert await phone.expect(PhoneCallEnded) == PhoneCallEnded(reason="shutdown")
    assert rig.store.reasons(call.call_id)[-1] == "ended:shutdown"


async def test_the_dialers_transfer_hands_a_live_call_to_the_agent_number(rig: Rig):
    phone, call = await rig.connect()

    assert await rig.app.dialer.transfer(call.call_id, "") is True
    events = await phone.until(PhoneCallEnded)

    assert events[-2:] == [
        PhoneTransferred(target="+14155550199"),
        PhoneCallEnded(reason="transferred"),
    ]
    assert await rig.app.dialer.transfer("no-such-call", "") is False


async def test_an_sms_is_stored_with_its_call_by_the_log_provider(rig: Rig):
    call = await rig.store.create_call(make_request(), domain.CallDirection.OUTBOUND)

    message_id = await rig.app.dialer.send_sms(call.call_id, "+14155550100", "Your claim is open.")

    assert message_id
    stored = rig.store.calls[call.call_id].messages[-1]
    assert (stored.persona, stored.action) == (domain.Persona.ASSISTANT, domain.MessageAction.SMS)
    assert stored.content == "Your claim is open."


async def test_a_number_that_is_not_e164_is_refused_before_anything_is_stored(rig: Rig):
    with pytest.raises(InvalidArgument, match=r"E\.164"):
        await rig.place("0612345678")
    assert rig.store.calls == {}


async def test_keys_typed_one_by_one_reach_the_brain_as_one_keypad_turn(rig: Rig):
    phone, _ = await rig.connect()

    for key in "0612345678":
        await phone.send(Dtmf(digits=key))
        await rig.clock.elapse(0.4)
    assert rig.brain.requests(UserTurn) == []  # still typing
    await phone.send(Dtmf(digits="#"))
    await rig.clock.settle()

    (turn,) = rig.brain.requests(UserTurn)
    assert (turn.text, turn.keypad) == ("0612345678", True)
    assert said(await phone.until(BotTurnDone)) == ["You said: 0612345678.", "Anything else?"]
    assert rig.brain.requests(Dtmf) == []  # no digit became a turn of its own


async def test_a_typed_phone_number_ends_at_its_length_when_the_bot_asked_for_one(rig: Rig):
    phone, _ = await rig.connect()
    await phone.send(PhoneSay(text="please call me back"))  # the bot asks for a French number
    await phone.until(BotTurnDone)

    await phone.send(Dtmf(digits="0612345678"))  # no '#', no pause: the length ends it
    await rig.clock.settle()

    assert [(t.text, t.keypad) for t in rig.brain.requests(UserTurn)][-1] == ("0612345678", True)


async def test_a_pause_after_the_last_key_ends_the_keypad_entry(rig: Rig):
    phone, _ = await rig.connect()

    await phone.send(Dtmf(digits="42"))
    await rig.clock.elapse(Features().dtmf_timeout_ms / 1000 - 0.1)
    assert rig.brain.requests(UserTurn) == []
    await rig.clock.elapse(0.1)

    assert [(t.text, t.keypad) for t in rig.brain.requests(UserTurn)] == [("42", True)]


async def test_keys_typed_before_a_hang_up_still_reach_the_brain_before_it(rig: Rig):
    phone, call = await rig.connect()

    await phone.send(Dtmf(digits="123"))
    await phone.send(PhoneHangUp(reason=""))
    await rig.ended(call.call_id)

    typed = [i for i, r in enumerate(rig.brain.received) if isinstance(r, UserTurn)]
    hung_up = [i for i, r in enumerate(rig.brain.received) if isinstance(r, CallerHangup)]
    assert len(typed) == 1 and len(hung_up) == 1 and typed[0] < hung_up[0]


async def test_the_bot_presses_keys_once_its_sentence_was_delivered(rig: Rig):
    phone, _ = await rig.connect()

    await phone.send(PhoneSay(text="press one"))
    events = await phone.until(BotDtmf)

    kinds = [type(e) for e in events]
    assert kinds.index(BotSaid) < kinds.index(BotTurnDone) < kinds.index(BotDtmf)
    assert events[-1] == BotDtmf(digits="1")


async def test_a_line_that_cannot_press_keys_keeps_the_call_going(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    phone, call = await rig.connect()

    # The base line's answer: a provider that cannot send touch tones.
    monkeypatch.setattr(SimulatedLine, "send_dtmf", PhoneLine.send_dtmf)
    await phone.send(PhoneSay(text="press one"))
    await phone.until(BotTurnDone)
    await phone.send(PhoneSay(text="still there"))

    assert said(await phone.until(BotTurnDone)) == ["You said: still there.", "Anything else?"]
    assert not any(r.startswith("ended") for r in rig.store.reasons(call.call_id))


async def test_a_brain_that_stays_down_ends_the_call_after_the_reconnect_timeout():
    rig = build_rig(reconnect_timeout_sec=0.3)
    try:
        phone, call = await rig.connect()

        rig.brain.kill()
        await rig.clock.elapse(0.1)  # backoff 0.1 s: still refused ...
        await rig.clock.elapse(0.2)  # ... 0.2 s more: down for the whole 0.3 s

        assert await phone.expect(PhoneCallEnded) == PhoneCallEnded(reason="brain_unavailable")
        assert (await rig.ended(call.call_id))[-1] == "ended:brain_unavailable"
    finally:
        await rig.app.stop()


@pytest.mark.parametrize("reason", ["claim_complete", "caller_goodbye", "agent_end_call"])
async def test_an_inbound_call_never_resumes_a_conversation_that_was_completed(
    rig: Rig, reason: str
):
    phone = rig.phone("+14155550142")
    await phone.send(PhoneCall(to_number="+18005550100"))
    first = await phone.expect(PhoneConnected)
    await phone.until(BotTurnDone)
    await phone.send(PhoneHangUp(reason=""))
    await phone.expect(PhoneCallEnded)
    await rig.ended(first.call_id)
    # As if the agent had ended it on purpose: caller ID alone must not reopen it.
    rig.store.calls[first.call_id].state_reason = reason

    await phone.send(PhoneCall(to_number="+18005550100"))
    again = await phone.expect(PhoneConnected)

    assert again.call_id != first.call_id


async def test_an_inbound_call_never_resumes_a_conversation_whose_claim_is_full(rig: Rig):
    phone = rig.phone("+14155550142")
    await phone.send(PhoneCall(to_number="+18005550100"))
    first = await phone.expect(PhoneConnected)
    await phone.until(BotTurnDone)
    await phone.send(PhoneHangUp(reason=""))
    await phone.expect(PhoneCallEnded)
    await rig.ended(first.call_id)
    stored = rig.store.calls[first.call_id]
    stored.claim = {f.name: "x" for f in stored.initiate.claim}

    await phone.send(PhoneCall(to_number="+18005550100"))
    again = await phone.expect(PhoneConnected)

    assert again.call_id != first.call_id
