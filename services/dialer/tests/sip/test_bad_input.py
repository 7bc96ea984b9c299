"""Malformed SIP over raw UDP: 400 when a response can be routed, else dropped; never a crash."""

from __future__ import annotations

import asyncio
import socket

import pytest

from switchboard_dialer.telephony.sip import SipEndpoint
from switchboard_testing.sip_endpoints import EndpointFactory
from switchboard_testing.sip_peers import HOST, collect_audio, dominant_frequency, tone


def _invite(
    port: int, *, drop: str = "", extra: str = "", body: bytes = b"", length: str = ""
) -> bytes:
    headers = [
        f"Via: SIP/2.0/UDP {HOST}:9;branch=z9hG4bKbad{port}",
        f"From: <sip:x@{HOST}>;tag=bad",
        f"To: <sip:bot@{HOST}:{port}>",
        "Call-ID: bad-input@test",
        "CSeq: 1 INVITE",
        "Max-Forwards: 70",
    ]
    headers = [h for h in headers if not drop or not h.startswith(drop)]
    headers.append(f"Content-Length: {length or len(body)}")
    text = f"INVITE sip:bot@{HOST}:{port} SIP/2.0\r\n" + "\r\n".join(headers) + extra + "\r\n\r\n"
    return text.encode() + body


def _offer(port: str = "4000", payloads: str = "0") -> bytes:
    return (
        "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP {payloads}\r\n"
    ).encode()


def _exchange(port: int, datagram: bytes, wait: float = 0.3) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(wait)
        sock.sendto(datagram, (HOST, port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


BAD_REQUESTS = {
    "missing Call-ID": lambda p: _invite(p, drop="Call-ID"),
    "duplicated CSeq": lambda p: _invite(p, extra="\r\nCSeq: 2 INVITE"),
    "duplicated From": lambda p: _invite(p, extra=f"\r\nFrom: <sip:y@{HOST}>;tag=2"),
    "Content-Length larger than the body": lambda p: _invite(p, body=b"v=0\r\n", length="500"),
    "bad Content-Length": lambda p: _invite(p, length="ten"),
    "CSeq method differs": lambda p: _invite(p, extra="").replace(b"1 INVITE", b"1 BYE"),
    "huge header": lambda p: _invite(p, extra="\r\nX-Huge: " + "a" * 20_000),
    "huge body": lambda p: _invite(p, body=b"x" * 30_000),
    "too many headers": lambda p: _invite(p, extra="".join(f"\r\nX-{i}: y" for i in range(100))),
    "malformed header line": lambda p: _invite(p, extra="\r\nno colon here"),
    "bad Via": lambda p: _invite(p).replace(b"Via: SIP/2.0/UDP", b"Via: junk"),
    "non-UTF-8 header": lambda p: _invite(p, extra="\r\nSubject: ").replace(
        b"Subject: ", b"Subject: \xff\xfe"
    ),
    # str.isdigit() accepts these; int() then raised inside the event loop (or gave 500).
    "Unicode digit in Content-Length": lambda p: _invite(p, length="²"),
    "Unicode digits in Max-Forwards": lambda p: _invite(p).replace(
        b"Max-Forwards: 70",
        "Max-Forwards: \u0667\u0660".encode(),  # Arabic-Indic 70
    ),
    "Unicode digit in the SDP port": lambda p: _invite(p, body=_offer(port="4²00")),
    "Unicode digit in an SDP payload type": lambda p: _invite(p, body=_offer(payloads="0 ²")),
    "Unicode digit in an SDP rtpmap": lambda p: _invite(
        p, body=_offer() + "a=rtpmap:² PCMU/8000\r\n".encode()
    ),
}


@pytest.mark.parametrize("problem", sorted(BAD_REQUESTS))
async def test_a_malformed_request_is_answered_400(
    make_endpoint: EndpointFactory, problem: str
) -> None:
    bot = await make_endpoint(user="bot")
    datagram = BAD_REQUESTS[problem](bot.local_port)
    reply = await asyncio.to_thread(_exchange, bot.local_port, datagram)
    assert reply is not None and reply.startswith(b"SIP/2.0 400 "), reply
    assert not bot.calls


GARBAGE = [
    b"",
    b"\x00" * 100,
    b"hello",
    bytes(range(256)) * 4,
    b"INVITE sip:x SIP/2.0\r\n\r\n",  # no Via: nowhere to send a 400
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKnope\r\n\r\n",
    b"INVITE sip:bot@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9",  # truncated
    b"\x80\x00" + bytes(170),  # an RTP packet on the SIP port
]


async def test_garbage_is_dropped_and_an_ongoing_call_is_unaffected(
    make_endpoint: EndpointFactory,
) -> None:
    bot = await make_endpoint(user="bot")
    peer = await make_endpoint(user="peer")
    call = await bot.call(f"sip:peer@{HOST}:{peer.local_port}")
    incoming = await asyncio.wait_for(peer.inbound.get(), 3)
    await incoming.answer()
    await call.wait_answered()
    call.send_audio(tone(440, 2.0))
    for target in (bot, peer):
        for datagram in GARBAGE:
            assert await asyncio.to_thread(_exchange, target.local_port, datagram, 0.05) is None
        for make in BAD_REQUESTS.values():
            await asyncio.to_thread(_exchange, target.local_port, make(target.local_port), 0.05)
    heard = await asyncio.wait_for(collect_audio(incoming.audio_in(), 1.0), 5)
    assert abs(dominant_frequency(heard) - 440) < 15
    assert incoming.rtp.packets_received > 0
    await call.hang_up()
    assert await asyncio.wait_for(incoming.ended, 2) == "remote_hangup"
    await _a_new_call_still_works(bot, peer)


async def _a_new_call_still_works(bot: SipEndpoint, peer: SipEndpoint) -> None:
    call = await bot.call(f"sip:peer@{HOST}:{peer.local_port}")
    incoming = await asyncio.wait_for(peer.inbound.get(), 3)
    await incoming.answer()
    await asyncio.wait_for(call.wait_answered(), 3)
    await call.hang_up()


async def test_an_in_dialog_request_for_an_unknown_call_gets_481(
    make_endpoint: EndpointFactory,
) -> None:
    bot = await make_endpoint(user="bot")
    bye = (
        _invite(bot.local_port)
        .replace(b"INVITE", b"BYE")
        .replace(
            b"To: <sip:bot@127.0.0.1:" + str(bot.local_port).encode() + b">",
            b"To: <sip:bot@127.0.0.1:" + str(bot.local_port).encode() + b">;tag=nope",
        )
    )
    reply = await asyncio.to_thread(_exchange, bot.local_port, bye)
    assert reply is not None and reply.startswith(b"SIP/2.0 481 ")


async def test_an_offer_without_a_common_codec_gets_488(make_endpoint: EndpointFactory) -> None:
    bot = await make_endpoint(user="bot")
    sdp = (
        b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n"
    )
    reply = await asyncio.to_thread(
        _exchange, bot.local_port, _invite(bot.local_port, body=sdp), 0.3
    )
    assert reply is not None and reply.startswith(b"SIP/2.0 488 ")
    assert not bot.calls
