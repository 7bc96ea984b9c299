"""One call's RTP stream: decoded 20 ms frames in, paced 20 ms frames and DTMF out.

The sender ticks on absolute deadlines (start + n·20 ms), so jitter in one tick does not
shift the next; when nothing is queued it sends silence, keeping the far end's jitter
buffer and any NAT binding alive. Packets from anywhere but the negotiated address are
ignored (logged once per stream); of the others, ``rtp_source`` picks those to play.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
from typing import cast

from switchboard.tasks import TaskOwner
from switchboard_dialer.telephony.sip import dtmf, g711
from switchboard_dialer.telephony.sip.rtp_packet import RtpPacket
from switchboard_dialer.telephony.sip.rtp_source import RtpSources
from switchboard_dialer.telephony.sip.sdp import STATIC_PAYLOADS, Negotiated

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160
FRAME_BYTES = FRAME_SAMPLES * 2  # PCM16
FRAME_SEC = 0.02
MAX_QUEUED_IN = 50  # 1 s of caller audio; older frames are dropped if nobody reads
RESYNC_SEC = 0.2  # a sender later than this (a stalled loop) restarts its schedule
SILENCE = bytes(FRAME_BYTES)


class NoRtpPort(OSError):
    """Every port of the configured RTP range is taken: no call can get media now."""


class RtpStream(asyncio.DatagramProtocol):
    """Sends and receives one audio stream; bind with :func:`open_stream`."""

    def __init__(self, call_ref: str) -> None:
        self._call_ref = call_ref
        self._transport: asyncio.DatagramTransport | None = None
        self._remote: tuple[str, int] | None = None
        self._media: Negotiated | None = None
        self._tasks = TaskOwner(f"rtp-{call_ref}")
        self._ssrc = secrets.randbits(32)
        self._sequence = secrets.randbits(16)
        self._timestamp = secrets.randbits(32)
        self._outbound: collections.deque[bytes] = collections.deque()
        self._partial_out = b""
        self._digits_out: collections.deque[str] = collections.deque()
        self.frames_in: asyncio.Queue[bytes | None] = asyncio.Queue(MAX_QUEUED_IN)
        self.digits_in: asyncio.Queue[str] = asyncio.Queue()
        self._partial_in = b""
        self._sources = RtpSources()
        self._last_event_ts: int | None = None
        self._warned_stranger = False
        self._sending = False
        self.packets_sent = 0
        self.packets_received = 0

    @property
    def port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector transport does not subclass DatagramTransport, but is one.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def start(self, media: Negotiated) -> None:
        """Starts (or redirects) the stream once offer/answer is done."""
        self._media = media
        self._remote = (media.host, media.port)
        if not self._sending:
            self._sending = True
            self._tasks.spawn(self._send_loop(), "sender")

    # Outbound -----------------------------------------------------------------

    def send_audio(self, pcm: bytes) -> None:
        """Queues PCM16 8 kHz audio; it goes out in 20 ms frames."""
        data = self._partial_out + pcm
        whole = len(data) - len(data) % FRAME_BYTES
        for i in range(0, whole, FRAME_BYTES):
            self._outbound.append(data[i : i + FRAME_BYTES])
        self._partial_out = data[whole:]

    def clear_audio(self) -> None:
        """Drops every queued frame (barge-in): the next tick sends silence."""
        self._outbound.clear()
        self._partial_out = b""

    @property
    def queued_audio_sec(self) -> float:
        return len(self._outbound) * FRAME_SEC

    def send_dtmf(self, digits: str) -> None:
        self._digits_out.extend(digits)

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        event: tuple[str, int, int] | None = None  # digit, start timestamp, ticks sent
        gap = 0
        while True:
            deadline = start + tick * FRAME_SEC
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > RESYNC_SEC:
                start, tick = loop.time(), 0
            tick += 1
            timestamp = self._timestamp
            self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
            media = self._media
            if media is None:
                continue
            if event is None and gap == 0 and self._digits_out and media.dtmf_payload is not None:
                event = (self._digits_out.popleft(), timestamp, 0)
            if event is not None and media.dtmf_payload is not None:
                digit, event_ts, sent = event
                duration = min((sent + 1) * FRAME_SAMPLES, dtmf.EVENT_DURATION_SAMPLES)
                end = (sent + 1) * FRAME_SAMPLES >= dtmf.EVENT_DURATION_SAMPLES
                payload = dtmf.encode(digit, end, duration)
                self._send(RtpPacket(media.dtmf_payload, 0, event_ts, 0, payload, sent == 0))
                sent += 1
                done = sent >= dtmf.EVENT_DURATION_SAMPLES // FRAME_SAMPLES + dtmf.END_REPEATS - 1
                event = None if done else (digit, event_ts, sent)
                gap = dtmf.GAP_FRAMES if done else 0
                continue
            gap = max(0, gap - 1)
            frame = self._outbound.popleft() if self._outbound else None
            if frame is None and self._partial_out:
                frame, self._partial_out = self._partial_out.ljust(FRAME_BYTES, b"\0"), b""
            payload = g711.encode(frame or SILENCE, media.codec)
            self._send(RtpPacket(media.payload_type, 0, timestamp, 0, payload))

    def _send(self, packet: RtpPacket) -> None:
        if self._transport is None or self._remote is None or self._transport.is_closing():
            return
        data = RtpPacket(
            packet.payload_type,
            self._sequence,
            packet.timestamp,
            self._ssrc,
            packet.payload,
            packet.marker,
        ).to_bytes()
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._transport.sendto(data, self._remote)
        self.packets_sent += 1

    # Inbound ------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._remote is None or (addr[0], addr[1]) != self._remote:
            if not self._warned_stranger:
                self._warned_stranger = True
                log.warning(
                    "rtp from an unexpected address ignored",
                    extra={"call": self._call_ref, "pii_source": f"{addr[0]}:{addr[1]}"},
                )
            return
        packet = RtpPacket.parse(data)
        media = self._media
        if packet is None or media is None:
            return
        if not self._sources.accept(packet.ssrc, packet.sequence):
            return  # a duplicate, late, or a jump not confirmed by the next packet
        self.packets_received += 1
        if packet.payload_type == media.dtmf_payload:
            self._receive_event(packet)
        elif packet.payload_type in STATIC_PAYLOADS:
            pcm = g711.decode(packet.payload, STATIC_PAYLOADS[packet.payload_type])
            self._receive_pcm(pcm)
        elif packet.payload_type == media.payload_type:
            self._receive_pcm(g711.decode(packet.payload, media.codec))

    def _receive_event(self, packet: RtpPacket) -> None:
        event = dtmf.decode(packet.payload)
        # One digit per event: all packets of an event share its start timestamp.
        if event is None or packet.timestamp == self._last_event_ts:
            return
        self._last_event_ts = packet.timestamp
        self.digits_in.put_nowait(event.digit)

    def _receive_pcm(self, pcm: bytes) -> None:
        data = self._partial_in + pcm
        whole = len(data) - len(data) % FRAME_BYTES
        for i in range(0, whole, FRAME_BYTES):
            if self.frames_in.full():
                self.frames_in.get_nowait()  # nobody is reading: keep the newest second
            self.frames_in.put_nowait(data[i : i + FRAME_BYTES])
        self._partial_in = data[whole:]

    async def close(self) -> None:
        await self._tasks.close()
        if self._transport is not None:
            self._transport.close()
        if self.frames_in.full():
            self.frames_in.get_nowait()
        self.frames_in.put_nowait(None)  # ends audio_in() iterators


async def open_stream(call_ref: str, host: str, ports: tuple[int, int]) -> RtpStream:
    """Binds a stream on the first free even port in ``ports`` (inclusive range)."""
    loop = asyncio.get_running_loop()
    low, high = ports
    first = low + secrets.randbelow(max(1, (high - low) // 2)) * 2
    candidates = list(range(first, high + 1, 2)) + list(range(low + low % 2, first, 2))
    for port in candidates:
        try:
            _, protocol = await loop.create_datagram_endpoint(
                lambda: RtpStream(call_ref), local_addr=(host, port)
            )
        except OSError:
            continue
        return protocol
    raise NoRtpPort("no free RTP port in the configured range")
