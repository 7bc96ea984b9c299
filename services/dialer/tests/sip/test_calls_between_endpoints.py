"""Two of our endpoints calling each other on loopback: the whole call life cycle."""

from __future__ import annotations

import asyncio
import socket

from switchboard_dialer.telephony.sip import CallFailed, CallState, SipCall, SipEndpoint, Timers
from switchboard_testing.sip_endpoints import EndpointFactory
from switchboard_testing.sip_peers import HOST, collect_audio, dominant_frequency, tone


async def _ring_and_answer(callee: SipEndpoint) -> SipCall:
    call = await asyncio.wait_for(callee.inbound.get(), 3)
    call.ring()
    await call.answer()
    return call


async def test_a_call_carries_audio_both_ways_and_ends_with_bye(
    make_endpoint: EndpointFactory,
) -> None:
    alice = await make_endpoint(user="alice")
    bob = await make_endpoint(user="bob")
    call = await alice.call(f"sip:bob@{HOST}:{bob.local_port}")
    answered, _ = await asyncio.gather(_ring_and_answer(bob), call.wait_answered())
    call.send_audio(tone(440, 1.5))
    answered.send_audio(tone(1000, 1.5))
    heard_by_bob, heard_by_alice = await asyncio.gather(
        collect_audio(answered.audio_in(), 1.0), collect_audio(call.audio_in(), 1.0)
    )
    assert abs(dominant_frequency(heard_by_bob[1600:]) - 440) < 15
    assert abs(dominant_frequency(heard_by_alice[1600:]) - 1000) < 15
    states = []
    await call.hang_up()
    async for event in call.events():
        states.append(event.state)
    assert states == [CallState.RINGING, CallState.ANSWERED, CallState.ENDED]
    assert await call.ended == "local_hangup"
    assert await asyncio.wait_for(answered.ended, 2) == "remote_hangup"


async def test_dtmf_digits_go_both_ways_as_rfc4733_events(make_endpoint: EndpointFactory) -> None:
    alice = await make_endpoint(user="alice")
    bob = await make_endpoint(user="bob")
    call = await alice.call(f"sip:bob@{HOST}:{bob.local_port}")
    answered, _ = await asyncio.gather(_ring_and_answer(bob), call.wait_answered())

    async def read(c: SipCall, count: int) -> str:
        out = ""
        async for digit in c.digits():
            out += digit
            if len(out) == count:
                break
        return out

    call.send_dtmf("12*#")
    answered.send_dtmf("09")
    got_bob, got_alice = await asyncio.wait_for(asyncio.gather(read(answered, 4), read(call, 2)), 5)
    assert (got_bob, got_alice) == ("12*#", "09")


async def test_cancelling_before_the_answer_ends_both_sides_as_cancelled(
    make_endpoint: EndpointFactory,
) -> None:
    alice = await make_endpoint(user="alice")
    bob = await make_endpoint(user="bob")
    call = await alice.call(f"sip:bob@{HOST}:{bob.local_port}")
    ringing = await asyncio.wait_for(bob.inbound.get(), 3)
    ringing.ring()
    async for event in call.events():
        if event.state is CallState.RINGING:
            break
    await call.hang_up()
    assert await call.ended == "cancelled"
    assert await asyncio.wait_for(ringing.ended, 2) == "remote_cancelled"


async def test_hanging_up_on_a_caller_before_answering_refuses_it_with_480(
    make_endpoint: EndpointFactory,
) -> None:
    alice = await make_endpoint(user="alice")
    bob = await make_endpoint(user="bob")
    call = await alice.call(f"sip:bob@{HOST}:{bob.local_port}")
    ringing = await asyncio.wait_for(bob.inbound.get(), 3)
    ringing.ring()
    await ringing.hang_up()
    assert await asyncio.wait_for(ringing.ended, 2) == "rejected"
    assert await asyncio.wait_for(call.ended, 2) == "no_answer"  # what a 480 means


async def test_ended_calls_are_forgotten_and_their_requests_get_481(
    make_endpoint: EndpointFactory,
) -> None:
    alice = await make_endpoint(user="alice")
    bob = await make_endpoint(user="bob")
    call = await alice.call(f"sip:bob@{HOST}:{bob.local_port}")
    answered, _ = await asyncio.gather(_ring_and_answer(bob), call.wait_answered())
    assert [c.call_id for c in alice.calls] == [call.call_id] == [c.call_id for c in bob.calls]
    await call.hang_up()
    await asyncio.wait_for(answered.ended, 2)
    await asyncio.sleep(0)  # the endpoints forget a call as its end is announced
    assert alice.calls == [] and bob.calls == []
    assert call.dialog is not None
    late = call.dialog.request("INFO", alice.transport.via())
    final = await asyncio.wait_for(alice.transport.request(late, call.dialog.next_hop).final, 3)
    assert final.status == 481


async def test_a_busy_callee_gives_busy_and_an_unanswered_one_no_answer(
    make_endpoint: EndpointFactory,
) -> None:
    alice = await make_endpoint(user="alice")
    bob = await make_endpoint(user="bob")
    busy = await alice.call(f"sip:bob@{HOST}:{bob.local_port}")
    (await asyncio.wait_for(bob.inbound.get(), 3)).reject(486)
    try:
        await busy.wait_answered()
        raise AssertionError("a rejected call was answered")
    except CallFailed as failed:
        assert failed.reason == "busy"
    silent = await alice.call(f"sip:bob@{HOST}:{bob.local_port}", ring_timeout_sec=0.5)
    (await asyncio.wait_for(bob.inbound.get(), 3)).ring()
    assert await asyncio.wait_for(silent.ended, 5) == "no_answer"


async def test_calling_nobody_fails_after_timer_b(make_endpoint: EndpointFactory) -> None:
    alice = await make_endpoint(user="alice", timers=Timers(t1=0.02, t2=0.08, t4=0.1))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind((HOST, 0))  # a socket that never answers
        call = await alice.call(f"sip:bob@{HOST}:{silent.getsockname()[1]}")
        # Timer B is 64·T1 = 1.28 s here; its synthetic 408 means no answer.
        assert await asyncio.wait_for(call.ended, 5) == "no_answer"


async def test_rtp_from_a_stranger_is_ignored(make_endpoint: EndpointFactory) -> None:
    alice = await make_endpoint(user="alice")
    bob = await make_endpoint(user="bob")
    call = await alice.call(f"sip:bob@{HOST}:{bob.local_port}")
    answered, _ = await asyncio.gather(_ring_and_answer(bob), call.wait_answered())
    received = answered.rtp.packets_received
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        packet = bytes([0x80, 0]) + bytes(10) + bytes(160)
        for _ in range(20):
            stranger.sendto(packet, (HOST, answered.rtp.port))
    await asyncio.sleep(0.1)
    # Only the caller's own packets (about 5 in 100 ms) were counted.
    assert answered.rtp.packets_received - received < 10
    await call.hang_up()
