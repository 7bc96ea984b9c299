"""The wire formats on their own: SIP text, digest, SDP, G.711, RTP, RFC 4733."""

from __future__ import annotations

import asyncio
import itertools
import warnings

import numpy as np
import pytest

from switchboard_dialer.telephony.sip import digest, dtmf, g711, sdp
from switchboard_dialer.telephony.sip.message import SipParseError, SipRequest, parse
from switchboard_dialer.telephony.sip.rtp import open_stream
from switchboard_dialer.telephony.sip.rtp_packet import RtpPacket
from switchboard_testing.sip_peers import HOST


def test_compact_folded_and_listed_headers_are_read() -> None:
    raw = (
        b"INVITE sip:bob@example.com SIP/2.0\r\n"
        b"v: SIP/2.0/UDP a.example:5060;branch=z9hG4bK1, SIP/2.0/UDP b.example;branch=z9hG4bK2\r\n"
        b"f: <sip:alice@example.com>;tag=1\r\nt: <sip:bob@example.com>\r\ni: abc\r\n"
        b"CSeq: 7 INVITE\r\nSubject: first\r\n second\r\nl: 4\r\n\r\nbodyEXTRA"
    )
    message = parse(raw)
    assert isinstance(message, SipRequest)
    assert len(message.get_all("Via")) == 2
    assert message.call_id == "abc" and message.cseq == (7, "INVITE")
    assert message.get("Subject") == "first second"
    assert message.body == b"body"  # bytes past Content-Length are dropped (RFC 3261 §18.3)
    assert parse(message.to_bytes()).get_all("Via") == message.get_all("Via")


def test_a_response_is_never_given_a_400_but_still_rejected() -> None:
    with pytest.raises(SipParseError) as rejected:
        parse(b"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n")
    assert rejected.value.partial is None


def test_digest_answers_the_rfc_2617_example() -> None:
    challenge = digest.Challenge.parse(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    value = digest.authorization(
        challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b"
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value


def test_sdp_answer_picks_the_first_common_codec_and_keeps_the_dtmf_payload() -> None:
    offer = sdp.parse(
        b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 9 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"
    )
    media, body = sdp.answer(offer, "127.0.0.1", 5000)
    assert (media.host, media.port, media.codec, media.dtmf_payload) == (
        "10.0.0.1",
        4000,
        "PCMA",
        96,
    )
    assert b"m=audio 5000 RTP/AVP 8 96" in body


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_g711_matches_audioop_for_every_sample_and_code(codec: g711.Codec) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    pcm = np.arange(-32768, 32768, dtype="<i2").tobytes()
    codes = bytes(range(256))
    if codec == "PCMU":
        assert g711.encode(pcm, codec) == audioop.lin2ulaw(pcm, 2)
        assert g711.decode(codes, codec) == audioop.ulaw2lin(codes, 2)
    else:
        assert g711.encode(pcm, codec) == audioop.lin2alaw(pcm, 2)
        assert g711.decode(codes, codec) == audioop.alaw2lin(codes, 2)
    # The tables, used where audioop is not installed, give the same bytes.
    assert g711.table_encode(pcm, codec) == g711.encode(pcm, codec)
    assert g711.table_decode(codes, codec) == g711.decode(codes, codec)


def test_rtp_packets_survive_csrcs_extensions_and_padding() -> None:
    packet = RtpPacket(0, 65535, 2**32 - 1, 0xDEADBEEF, b"\x01" * 160, marker=True)
    assert RtpPacket.parse(packet.to_bytes()) == packet
    data = bytearray(packet.to_bytes())
    data[0] |= 0x30 | 0x01  # padding, extension, one CSRC
    raw = (
        bytes(data[:12]) + b"CSRC" + b"\x00\x01\x00\x01" + b"EXT!" + bytes(data[12:]) + b"\x00\x02"
    )
    parsed = RtpPacket.parse(raw)
    assert parsed is not None and parsed.payload == b"\x01" * 160
    assert RtpPacket.parse(b"\x00" * 20) is None and RtpPacket.parse(b"\x80") is None


def test_dtmf_events_round_trip() -> None:
    assert dtmf.decode(dtmf.encode("#", True, 800)) == dtmf.DtmfEvent("#", True, 800)
    assert dtmf.decode(b"\x20\x00\x00\x00") is None  # event 32 is not a digit


async def test_rtp_goes_out_every_20_ms_with_steady_sequence_and_timestamps() -> None:
    sender = await open_stream("send", HOST, (42000, 42100))
    loop = asyncio.get_running_loop()
    received: list[tuple[float, RtpPacket]] = []

    class Sink(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            packet = RtpPacket.parse(data)
            assert packet is not None
            received.append((loop.time(), packet))

    transport, _ = await loop.create_datagram_endpoint(Sink, local_addr=(HOST, 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        sender.start(sdp.Negotiated(HOST, port, "PCMU", 0, 101))
        sender.send_audio(b"\x00\x10" * 8000)  # one second
        await asyncio.sleep(1.0)
    finally:
        await sender.close()
        transport.close()
    packets = [p for _, p in received]
    assert 45 <= len(packets) <= 52
    assert len({p.ssrc for p in packets}) == 1
    assert all((b.sequence - a.sequence) & 0xFFFF == 1 for a, b in itertools.pairwise(packets))
    assert all(
        (b.timestamp - a.timestamp) & 0xFFFFFFFF == 160 for a, b in itertools.pairwise(packets)
    )
    span = received[-1][0] - received[0][0]
    assert abs(span - 0.02 * (len(packets) - 1)) < 0.06  # absolute deadlines: no drift
