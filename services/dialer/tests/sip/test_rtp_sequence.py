"""RTP sequence validation (RFC 3550 A.1): one forged jump does not mute the caller."""

from __future__ import annotations

import asyncio
import socket

from switchboard_dialer.telephony.sip import sdp
from switchboard_dialer.telephony.sip.rtp import open_stream
from switchboard_dialer.telephony.sip.rtp_packet import RtpPacket
from switchboard_dialer.telephony.sip.rtp_source import RtpSources
from switchboard_testing.sip_peers import HOST

SSRC = 0x1234ABCD


def _played(sources: RtpSources, packets: list[tuple[int, int]]) -> list[bool]:
    return [sources.accept(ssrc, seq) for ssrc, seq in packets]


def test_a_new_source_plays_from_its_second_packet_in_order() -> None:
    sources = RtpSources()
    assert _played(sources, [(SSRC, 100), (SSRC, 101), (SSRC, 102)]) == [False, True, True]


def test_a_single_packet_far_ahead_is_dropped_and_the_stream_goes_on() -> None:
    sources = RtpSources()
    _played(sources, [(SSRC, 65530), (SSRC, 65531)])
    forged = (65531 + 0x7FFF) % 65536
    assert not sources.accept(SSRC, forged)
    # Genuine packets keep playing, across the 16-bit wrap.
    assert _played(sources, [(SSRC, 65532 + i) for i in range(10)]) == [True] * 10


def test_a_sender_that_restarts_its_numbering_is_followed_after_two_packets() -> None:
    sources = RtpSources()
    _played(sources, [(SSRC, 10), (SSRC, 11)])
    assert _played(sources, [(SSRC, 40000), (SSRC, 40001), (SSRC, 40002)]) == [False, True, True]
    assert not sources.accept(SSRC, 12)  # the old numbering is now far behind


def test_duplicates_and_late_packets_are_not_played_twice() -> None:
    sources = RtpSources()
    _played(sources, [(SSRC, 1), (SSRC, 2), (SSRC, 3)])
    assert _played(sources, [(SSRC, 3), (SSRC, 2), (SSRC, 4)]) == [False, False, True]


def test_a_second_ssrc_is_validated_on_its_own_and_does_not_disturb_the_first() -> None:
    sources = RtpSources()
    _played(sources, [(SSRC, 500), (SSRC, 501)])
    assert _played(sources, [(7, 30000), (SSRC, 502), (7, 30001), (SSRC, 503)]) == [
        False,
        True,
        True,
        True,
    ]


async def test_one_forged_packet_0x7fff_ahead_does_not_mute_the_caller_on_loopback() -> None:
    stream = await open_stream("jump", HOST, (43000, 43100))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as caller:
        caller.bind((HOST, 0))
        host, port = caller.getsockname()
        stream.start(sdp.Negotiated(host, port, "PCMU", 0, None))
        frame = bytes(160)

        def send(sequence: int) -> None:
            packet = RtpPacket(0, sequence & 0xFFFF, sequence * 160, SSRC, frame)
            caller.sendto(packet.to_bytes(), (HOST, stream.port))

        try:
            for sequence in range(1000, 1010):
                send(sequence)
            send(1009 + 0x7FFF)  # from the caller's own address, same SSRC
            for sequence in range(1010, 1060):
                send(sequence)
            await asyncio.sleep(0.2)
            # 9 before the jump (the first is the source's probation), 50 after it.
            assert stream.packets_received == 59
            assert stream.frames_in.qsize() == 50  # the queue keeps the newest second
        finally:
            await stream.close()
