"""Failed calls hold nothing: transactions, dialogs and call slots are freed; no RTP port, a reason.

The transaction timers run on short configured timers (64·T1 = 3.2 s here), so the
test counts what the endpoint still holds instead of measuring its memory.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable

import pytest

from switchboard.config import DialerSettings, Features, Settings, SipSettings
from switchboard.features import FeatureFlags
from switchboard_dialer.app import build_dialer
from switchboard_dialer.telephony.base import CallNotConnected
from switchboard_dialer.telephony.sip import SipEndpoint, Timers
from switchboard_dialer.telephony.sip.admission import InboundPolicy
from switchboard_dialer.telephony.sip.provider import NO_RTP_PORT, SipProvider
from switchboard_testing.dialer_fakes import FakeStore, ScriptedBrain, make_request
from switchboard_testing.ports import free_rtp_range
from switchboard_testing.sip_endpoints import EndpointFactory
from switchboard_testing.sip_peers import HOST

QUICK = Timers(t1=0.05, t2=0.2, t4=0.25)  # a transaction lingers 64·T1 = 3.2 s
STRANGER = "127.0.0.2"
SDP_PCMU = "v=0\r\no=x 1 1 IN IP4 {h}\r\ns=-\r\nc=IN IP4 {h}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"


def _invite(
    port: int,
    n: int,
    sender: tuple[str, int],
    body: str = "",
    content_type: str = "application/sdp",
    from_header: str = "",
) -> bytes:
    host = sender[0]
    data = body.format(h=host).encode()
    return (
        f"INVITE sip:bot@{HOST}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{sender[1]};branch=z9hG4bKfail{n}\r\n"
        f"From: {from_header or f'<sip:caller@{host}>;tag=f{n}'}\r\n"
        f"To: <sip:bot@{HOST}:{port}>\r\nCall-ID: failed-{n}@{host}\r\nCSeq: 1 INVITE\r\n"
        f"Max-Forwards: 70\r\nContact: <sip:caller@{host}:{sender[1]}>\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode() + data


# Kinds of INVITE that fail, each with the status it gets (none is ever ACKed here).
FAILURES: dict[str, tuple[Callable[[int, int, tuple[str, int]], bytes], int]] = {
    "no common codec": (
        lambda p, n, s: _invite(p, n, s, SDP_PCMU.replace("RTP/AVP 0", "RTP/AVP 9")),
        488,
    ),
    "Unicode digit in the SDP": (
        lambda p, n, s: _invite(p, n, s, SDP_PCMU.replace("4000", "4²00")),
        400,
    ),
    "media named by a host name": (
        lambda p, n, s: _invite(p, n, s, SDP_PCMU.replace("IN IP4 {h}", "IN IP4 media.test")),
        488,
    ),
    "not SDP": (lambda p, n, s: _invite(p, n, s, "hello", "text/plain"), 415),
    "no SDP": (lambda p, n, s: _invite(p, n, s), 488),
    "unreadable From": (lambda p, n, s: _invite(p, n, s, SDP_PCMU, from_header='"x <sip:'), 400),
}


async def _drained(endpoint: SipEndpoint, within: float) -> bool:
    """Whether the endpoint holds no transaction, call (dialog) or call slot within ``within``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if (
            endpoint.transport.live_transactions == 0
            and not endpoint.calls
            and endpoint.gate.active_calls == 0
        ):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_failed_invites_leave_no_transaction_dialog_or_call_slot_behind(
    make_endpoint: EndpointFactory,
) -> None:
    policy = InboundPolicy(sources=(HOST,), max_calls=5, max_calls_per_source=5)
    bot = await make_endpoint(user="bot", timers=QUICK, ring_timeout_sec=0.3, inbound=policy)
    guarded = await make_endpoint(
        user="guarded", password="pw", timers=QUICK, inbound=InboundPolicy(digest=True)
    )
    stop = threading.Event()
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as trunk,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger,
    ):
        trunk.bind((HOST, 0))
        stranger.bind((STRANGER, 0))
        answers = [
            asyncio.create_task(asyncio.to_thread(_finals, sock, stop), name="test-answers")
            for sock in (trunk, stranger)
        ]
        try:
            peak = await _send_failing_invites(bot, guarded, trunk, stranger, rounds=40)
            assert peak > 100  # they are held while their answers are retransmitted
            assert await _drained(bot, 10.0), (bot.transport.live_transactions, bot.calls)
            assert await _drained(guarded, 10.0)
        finally:
            stop.set()
            finals = [await answer for answer in answers]
    statuses = set(finals[0].values()) | set(finals[1].values())
    assert {488, 400, 415, 401, 403, 480, 503} <= statuses, statuses
    assert 500 not in statuses and 200 not in statuses


async def _send_failing_invites(
    bot: SipEndpoint,
    guarded: SipEndpoint,
    trunk: socket.socket,
    stranger: socket.socket,
    rounds: int,
) -> int:
    """Sends every kind of failing INVITE ``rounds`` times; the most transactions held."""
    peak = 0
    n = 0
    for _ in range(rounds):
        for make, _status in FAILURES.values():
            trunk.sendto(make(bot.local_port, n, trunk.getsockname()), (HOST, bot.local_port))
            n += 1
        # From a stranger (403), to the digest endpoint without credentials (401),
        # and usable calls that nobody answers: refused (480) or over the cap (503).
        invite = _invite(bot.local_port, n, stranger.getsockname(), SDP_PCMU)
        stranger.sendto(invite, (HOST, bot.local_port))
        invite = _invite(guarded.local_port, n + 1, trunk.getsockname(), SDP_PCMU)
        trunk.sendto(invite, (HOST, guarded.local_port))
        invite = _invite(bot.local_port, n + 2, trunk.getsockname(), SDP_PCMU)
        trunk.sendto(invite, (HOST, bot.local_port))
        n += 3
        await asyncio.sleep(0.01)  # let the endpoints read them (a socket buffer is finite)
        held = bot.transport.live_transactions + guarded.transport.live_transactions
        peak = max(peak, held)
    return peak


def _finals(sock: socket.socket, stop: threading.Event) -> dict[bytes, int]:
    """The first final status per Call-ID that ``sock`` receives until ``stop``."""
    sock.settimeout(0.05)
    finals: dict[bytes, int] = {}
    while not stop.is_set():
        try:
            reply = sock.recv(65535)
        except TimeoutError:
            continue
        status = int(reply.split(b" ", 2)[1])
        call_id = next((line for line in reply.split(b"\r\n") if line.startswith(b"Call-ID")), b"")
        if status >= 200:
            finals.setdefault(call_id, status)
    return finals


def _taken_rtp_range() -> tuple[tuple[int, int], socket.socket]:
    """A range of one even port, and the socket holding it."""
    low, high = free_rtp_range(2)
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind((HOST, low))
    return (low, high), holder


async def test_with_every_rtp_port_taken_a_dialled_call_fails_with_no_rtp_port() -> None:
    (low, high), holder = _taken_rtp_range()
    with holder:
        sip = SipProvider(
            SipSettings(
                host=HOST,
                port=5999,
                bind_host=HOST,
                bind_port=0,
                rtp_port_min=low,
                rtp_port_max=high,
            )
        )
        await sip.start()
        try:
            ring = await sip.dial("call-1", "+14155550100")
            with pytest.raises(CallNotConnected) as failed:
                await ring.wait_answered(1)
            assert failed.value.reason == NO_RTP_PORT and failed.value.failed
            # Through the dialer: the stored call fails with that reason, not dialing forever.
            store = FakeStore()
            settings = Settings(dialer=DialerSettings(telephony="sip"))
            app = build_dialer(store, ScriptedBrain(), sip, FeatureFlags(Features()), settings)
            call = await app.dialer.place_call(make_request("+14155550100"))
            async with asyncio.timeout(3):
                await app.registry.wait_ended(call.call_id)
            assert store.reasons(call.call_id) == ["dialing", f"failed:{NO_RTP_PORT}"]
            await app.stop()
        finally:
            await sip.close()


async def test_with_every_rtp_port_taken_a_caller_gets_503_and_its_slot_back(
    make_endpoint: EndpointFactory,
) -> None:
    (low, high), holder = _taken_rtp_range()
    with holder:
        bot = await make_endpoint(user="bot", rtp_ports=(low, high), timers=QUICK)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as trunk:
            trunk.bind((HOST, 0))
            invite = _invite(bot.local_port, 1, trunk.getsockname(), SDP_PCMU)
            trunk.sendto(invite, (HOST, bot.local_port))
            trunk.settimeout(2)
            replies = [await asyncio.to_thread(trunk.recv, 65535) for _ in range(2)]
        assert [r.split(b" ", 2)[1] for r in replies] == [b"100", b"503"]
        assert await _drained(bot, 10.0)
