"""Inbound calls come from the trunk only: strangers get 403 and no media, callers are capped.

Every test peer sends from 127.0.0.1, the trunk; a stranger sends from 127.0.0.2 (all of
127.0.0.0/8 is loopback) and names 127.0.0.3 as its media address in the SDP.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from switchboard import domain
from switchboard.config import SipSettings
from switchboard_dialer.telephony.base import PhoneLine
from switchboard_dialer.telephony.sip import CallFailed, Timers, digest, rtp
from switchboard_dialer.telephony.sip.admission import (
    Credentials,
    InboundGate,
    InboundPolicy,
)
from switchboard_dialer.telephony.sip.log_budget import LogBudget
from switchboard_dialer.telephony.sip.message import SipRequest, parse
from switchboard_dialer.telephony.sip.provider import SipProvider
from switchboard_testing.ports import free_rtp_range
from switchboard_testing.sip_endpoints import EndpointFactory
from switchboard_testing.sip_peers import HOST

STRANGER = "127.0.0.2"
STRANGER_MEDIA = "127.0.0.3"


def _invite(port: int, n: int, sender: tuple[str, int], media: tuple[str, int]) -> bytes:
    body = (
        f"v=0\r\no=x 1 1 IN IP4 {media[0]}\r\ns=-\r\nc=IN IP4 {media[0]}\r\nt=0 0\r\n"
        f"m=audio {media[1]} RTP/AVP 0 8\r\n"
    ).encode()
    head = (
        f"INVITE sip:+18005550100@{HOST}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {sender[0]}:{sender[1]};branch=z9hG4bKstranger{n}\r\n"
        f"From: <sip:+14155550123@{sender[0]}>;tag=s{n}\r\n"
        f"To: <sip:+18005550100@{HOST}:{port}>\r\n"
        f"Call-ID: stranger-{n}@{sender[0]}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
        f"Contact: <sip:x@{sender[0]}:{sender[1]}>\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _finals(sock: socket.socket, count: int, within: float) -> list[int]:
    """The final statuses ``sock`` receives, until ``count`` of them or ``within`` s."""
    sock.settimeout(within)
    statuses: list[int] = []
    try:
        while len([s for s in statuses if s >= 200]) < count:
            statuses.append(int(sock.recv(65535).split(b" ", 2)[1]))
    except TimeoutError:
        pass
    return statuses


@pytest.fixture
async def provider() -> AsyncIterator[SipProvider]:
    """The SIP provider with its trunk on 127.0.0.1 and no inbound sources listed."""
    low, high = free_rtp_range(20)
    settings = SipSettings(
        host=HOST, port=5999, bind_host=HOST, bind_port=0, rtp_port_min=low, rtp_port_max=high
    )
    sip = SipProvider(settings)
    await sip.start()
    yield sip
    await sip.close()


async def test_a_strangers_invites_get_403_and_no_rtp_reaches_the_address_in_their_sdp(
    provider: SipProvider, make_endpoint: EndpointFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "switchboard_dialer.telephony.sip")
    offered: list[str] = []

    async def take(from_number: str, to_number: str, line: PhoneLine) -> domain.Call:
        offered.append(from_number)  # an app that would take anyone
        await line.accept(f"call-{len(offered)}")
        return cast(domain.Call, None)

    provider.on_inbound(take)
    port = provider.endpoint.local_port
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as media,
    ):
        stranger.bind((STRANGER, 0))
        media.bind((STRANGER_MEDIA, 0))
        for n in range(8):
            stranger.sendto(
                _invite(port, n, stranger.getsockname(), media.getsockname()), (HOST, port)
            )
        statuses = await asyncio.to_thread(_finals, stranger, 8, 3.0)
        assert statuses == [403] * 8
        media.settimeout(1.0)
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(media.recv, 65535)
    assert offered == [] and provider.endpoint.calls == []
    assert provider.endpoint.gate.active_calls == 0
    refusals = [r for r in caplog.records if r.getMessage() == "sip inbound call refused"]
    assert len(refusals) == 1  # the flood is one log line (per 10 s), not eight
    # The trunk (the host's address) still gets through, and is answered.
    trunk = await make_endpoint(user="+14155550123")
    call = await trunk.call(f"sip:+18005550100@{HOST}:{port}")
    await asyncio.wait_for(call.wait_answered(), 5)
    assert offered == ["+14155550123"]
    await call.hang_up()


async def test_a_trusted_caller_whose_sdp_names_another_address_gets_488_and_no_media(
    make_endpoint: EndpointFactory,
) -> None:
    bot = await make_endpoint(user="bot", inbound=InboundPolicy(sources=("127.0.0.0/8",)))
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as caller,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as media,
    ):
        caller.bind((STRANGER, 0))
        media.bind((STRANGER_MEDIA, 0))
        datagram = _invite(bot.local_port, 0, caller.getsockname(), media.getsockname())
        caller.sendto(datagram, (HOST, bot.local_port))
        assert await asyncio.to_thread(_finals, caller, 1, 2.0) == [488]
        media.settimeout(0.5)
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(media.recv, 65535)
    assert bot.calls == []


async def test_media_networks_let_a_trunk_name_its_media_servers(
    make_endpoint: EndpointFactory,
) -> None:
    policy = InboundPolicy(sources=(STRANGER,), media_networks=(f"{STRANGER_MEDIA}/32",))
    bot = await make_endpoint(user="bot", inbound=policy)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as trunk,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as media,
    ):
        trunk.bind((STRANGER, 0))
        media.bind((STRANGER_MEDIA, 0))
        datagram = _invite(bot.local_port, 1, trunk.getsockname(), media.getsockname())
        trunk.sendto(datagram, (HOST, bot.local_port))
        call = await asyncio.wait_for(bot.inbound.get(), 3)
        await call.answer()
        assert 200 in await asyncio.to_thread(_finals, trunk, 1, 2.0)
        media.settimeout(1.0)
        assert len(await asyncio.to_thread(media.recv, 65535)) == 12 + 160  # RTP, PCMU
        await call.hang_up()


async def test_digest_callers_are_challenged_and_only_the_right_password_is_answered(
    make_endpoint: EndpointFactory,
) -> None:
    policy = InboundPolicy(sources=(HOST,), digest=True)
    bot = await make_endpoint(user="bot", auth_user="trunk", password="s3cret", inbound=policy)
    target = f"sip:bot@{HOST}:{bot.local_port}"
    right = await make_endpoint(user="trunk", password="s3cret")
    call = await right.call(target)
    answered = await asyncio.wait_for(bot.inbound.get(), 3)
    await answered.answer()
    await asyncio.wait_for(call.wait_answered(), 3)
    await call.hang_up()
    for password in ("wrong", ""):
        caller = await make_endpoint(user="trunk", password=password)
        refused = await caller.call(target)
        with pytest.raises(CallFailed):
            await asyncio.wait_for(refused.wait_answered(), 3)
    assert bot.inbound.empty()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind((HOST, 0))
        me = raw.getsockname()
        raw.sendto(_invite(bot.local_port, 2, me, me), (HOST, bot.local_port))
        raw.settimeout(2.0)
        reply = parse(await asyncio.to_thread(raw.recv, 65535))
    assert not isinstance(reply, SipRequest) and reply.status == 401
    assert 'qop="auth"' in (reply.get("WWW-Authenticate") or "")


async def test_inbound_calls_are_capped_overall_and_per_source(
    make_endpoint: EndpointFactory,
) -> None:
    policy = InboundPolicy(sources=("127.0.0.0/8",), max_calls=3, max_calls_per_source=2)
    bot = await make_endpoint(user="bot", inbound=policy)
    target = f"sip:bot@{HOST}:{bot.local_port}"
    near = await make_endpoint(user="near")
    far = await make_endpoint(user="far", bind_host=STRANGER)
    held = [await near.call(target), await near.call(target)]
    over_source = await near.call(target)
    with pytest.raises(CallFailed, match="failed"):  # 503
        await asyncio.wait_for(over_source.wait_answered(), 3)
    held.append(await far.call(target))  # another source: under its own cap
    await asyncio.sleep(0.3)
    assert bot.gate.active_calls == 3
    over_all = await far.call(target)
    with pytest.raises(CallFailed, match="failed"):
        await asyncio.wait_for(over_all.wait_answered(), 3)
    await held[0].hang_up()  # CANCEL: the slot is freed
    await asyncio.sleep(0.2)
    again = await far.call(target)
    await asyncio.sleep(0.3)
    assert not again.ended.done() and bot.gate.active_calls == 3
    for call in [*held[1:], again]:
        await call.hang_up()
    await asyncio.sleep(0.3)
    assert bot.gate.active_calls == 0


def test_a_replayed_or_expired_digest_answer_is_refused() -> None:
    now = [1000.0]
    gate = InboundGate(
        InboundPolicy(digest=True), (), Credentials("trunk.example", "trunk", "pw"), lambda: now[0]
    )
    invite = SipRequest(method="INVITE", uri="sip:bot@127.0.0.1")
    refusal = gate.check(invite, STRANGER)
    assert refusal is not None and refusal.status == 401
    challenge = digest.Challenge.parse(dict(refusal.headers)["WWW-Authenticate"])

    def answered(password: str, nc: int = 1) -> SipRequest:
        request = SipRequest(method="INVITE", uri=invite.uri)
        value = digest.authorization(challenge, "INVITE", invite.uri, "trunk", password, nc)
        request.add("Authorization", value)
        return request

    assert gate.check(answered("pw"), STRANGER) is None
    replay = gate.check(answered("pw"), STRANGER)  # the same nonce count again
    assert replay is not None and replay.status == 403
    wrong = gate.check(answered("nope", 2), STRANGER)
    assert wrong is not None and wrong.status == 403
    assert gate.check(answered("pw", 3), STRANGER) is None
    now[0] += 301
    stale = gate.check(answered("pw", 4), STRANGER)
    assert stale is not None and stale.status == 401 and "stale=true" in stale.headers[0][1]


def test_with_no_trusted_source_and_no_digest_nobody_may_call_in() -> None:
    gate = InboundGate(InboundPolicy(), (), Credentials("r", "u", ""))
    refusal = gate.check(SipRequest(method="INVITE", uri="sip:bot@127.0.0.1"), HOST)
    assert refusal is not None and refusal.status == 403 and not gate.open
    with pytest.raises(ValueError, match="not an IP address"):
        InboundPolicy(sources=("trunk.example.com",))


def _cancel(port: int, n: int, sender: tuple[str, int], via: tuple[str, int]) -> bytes:
    """A CANCEL of ``_invite(port, n, via, …)``, sent from ``sender``."""
    return (
        f"CANCEL sip:+18005550100@{HOST}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {via[0]}:{via[1]};branch=z9hG4bKstranger{n}\r\n"
        f"From: <sip:+14155550123@{via[0]}>;tag=s{n}\r\n"
        f"To: <sip:+18005550100@{HOST}:{port}>\r\n"
        f"Call-ID: stranger-{n}@{via[0]}\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\n"
        f"Content-Length: 0\r\n\r\n"
    ).encode()


async def test_only_whoever_sent_an_invite_may_cancel_it(make_endpoint: EndpointFactory) -> None:
    bot = await make_endpoint(user="bot")
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as trunk,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger,
    ):
        trunk.bind((HOST, 0))
        stranger.bind((STRANGER, 0))
        me = trunk.getsockname()
        trunk.sendto(_invite(bot.local_port, 7, me, me), (HOST, bot.local_port))
        ringing = await asyncio.wait_for(bot.inbound.get(), 3)
        stranger.sendto(
            _cancel(bot.local_port, 7, stranger.getsockname(), me), (HOST, bot.local_port)
        )
        assert await asyncio.to_thread(_finals, stranger, 1, 2.0) == [481]
        assert not ringing.ended.done()
        trunk.sendto(_cancel(bot.local_port, 7, me, me), (HOST, bot.local_port))
        assert await asyncio.wait_for(ringing.ended, 2) == "remote_cancelled"


async def test_a_cancel_while_the_rtp_port_is_bound_answers_487_and_frees_the_slot(
    make_endpoint: EndpointFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bound = asyncio.Event()
    binding = asyncio.Event()
    open_stream = rtp.open_stream

    async def slow_open_stream(*args: Any) -> rtp.RtpStream:
        binding.set()
        await bound.wait()
        return await open_stream(*args)

    monkeypatch.setattr(rtp, "open_stream", slow_open_stream)
    bot = await make_endpoint(user="bot", timers=Timers(t1=0.02, t2=0.08, t4=0.1))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as trunk:
        trunk.bind((HOST, 0))
        me = trunk.getsockname()
        trunk.sendto(_invite(bot.local_port, 8, me, me), (HOST, bot.local_port))
        await asyncio.wait_for(binding.wait(), 2)
        trunk.sendto(_cancel(bot.local_port, 8, me, me), (HOST, bot.local_port))
        statuses = await asyncio.to_thread(_finals, trunk, 2, 2.0)
        bound.set()
    assert sorted(s for s in statuses if s >= 200) == [200, 487]
    await asyncio.sleep(0.1)
    assert bot.calls == [] and bot.gate.active_calls == 0 and bot.inbound.empty()


def test_a_repeated_event_is_logged_once_per_interval_with_the_count_it_skipped() -> None:
    now = [0.0]
    budget = LogBudget(interval_sec=10, max_keys=2, clock=lambda: now[0])
    assert [budget.spend("a") for _ in range(4)] == [0, None, None, None]
    now[0] = 10.0
    assert budget.spend("a") == 3
    budget.spend("b")
    budget.spend("c")  # "a" is forgotten: memory stays bounded
    assert budget.spend("a") == 0
