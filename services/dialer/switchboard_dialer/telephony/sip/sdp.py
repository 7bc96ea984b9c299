"""SDP offer/answer (RFC 3264) for one audio stream: PCMU, PCMA and telephone-event/8000."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass

from switchboard_dialer.telephony.sip.g711 import Codec
from switchboard_dialer.telephony.sip.message import ascii_digits

STATIC_PAYLOADS: dict[int, Codec] = {0: "PCMU", 8: "PCMA"}
DTMF_PAYLOAD = 101
MAX_SDP_LINES = 200


class SdpError(ValueError):
    """An SDP body without a usable audio stream (answered with 488)."""


class SdpSyntaxError(SdpError):
    """An SDP body that cannot be read at all (answered with 400)."""


@dataclass(frozen=True)
class MediaOffer:
    """What one side's SDP says about its audio stream."""

    host: str
    port: int
    codecs: tuple[tuple[int, Codec], ...]  # (payload type, codec) in preference order
    dtmf_payload: int | None
    direction: str = "sendrecv"


@dataclass(frozen=True)
class Negotiated:
    """The outcome of offer/answer: where to send, in which codec, DTMF on which PT."""

    host: str
    port: int
    codec: Codec
    payload_type: int
    dtmf_payload: int | None


def parse(body: bytes) -> MediaOffer:
    """Reads the first audio stream of an SDP body."""
    try:
        lines = body.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SdpSyntaxError("SDP is not UTF-8") from exc
    if len(lines) > MAX_SDP_LINES:
        raise SdpSyntaxError("SDP too long")
    session_host = media_host = ""
    port: int | None = None
    payloads: list[int] = []
    names: dict[int, str] = {}
    direction = "sendrecv"
    in_audio = False
    for line in lines:
        kind, _, value = line.strip().partition("=")
        if kind == "m":
            if port is not None:
                break  # only the first audio stream is used
            fields = value.split()
            in_audio = len(fields) >= 4 and fields[0] == "audio" and fields[2] == "RTP/AVP"
            if in_audio:
                numbers = [fields[1], *fields[3:]]
                if not all(ascii_digits(f, 5) for f in numbers) or len(fields) > 40:
                    raise SdpSyntaxError("bad m= line")
                port = int(fields[1])
                payloads = [int(f) for f in fields[3:]]
        elif kind == "c" and value.startswith("IN IP4 "):
            host = value[7:].split("/")[0].strip()
            if in_audio:
                media_host = host
            elif port is None:
                session_host = host
        elif kind == "a" and in_audio:
            attr, _, rest = value.partition(":")
            if attr == "rtpmap":
                number, _, encoding = rest.partition(" ")
                if not ascii_digits(number, 3):
                    raise SdpSyntaxError("bad rtpmap")
                names[int(number)] = encoding.strip().lower()
            elif attr in ("sendrecv", "sendonly", "recvonly", "inactive"):
                direction = attr
    host = media_host or session_host
    if port is None or not host or not 0 < port < 65536:
        raise SdpError("no audio stream")
    try:  # a name would make every RTP packet a blocking DNS lookup
        host = str(ipaddress.IPv4Address(host))
    except ValueError as exc:
        raise SdpError("the audio address is not an IPv4 address") from exc
    codecs: list[tuple[int, Codec]] = []
    dtmf: int | None = None
    for pt in payloads:
        name = names.get(pt, "")
        if pt in STATIC_PAYLOADS and (not name or name.startswith(STATIC_PAYLOADS[pt].lower())):
            codecs.append((pt, STATIC_PAYLOADS[pt]))
        elif name.startswith("pcmu/8000"):
            codecs.append((pt, "PCMU"))
        elif name.startswith("pcma/8000"):
            codecs.append((pt, "PCMA"))
        elif name == "telephone-event/8000" and dtmf is None:
            dtmf = pt
    return MediaOffer(host, port, tuple(codecs), dtmf, direction)


def build(
    host: str,
    port: int,
    codecs: tuple[tuple[int, Codec], ...],
    dtmf_payload: int | None,
    session_id: int | None = None,
) -> bytes:
    """An SDP body offering (or answering with) ``codecs`` and DTMF events."""
    session = session_id if session_id is not None else secrets.randbelow(2**31)
    payloads = [pt for pt, _ in codecs] + ([dtmf_payload] if dtmf_payload is not None else [])
    lines = [
        "v=0",
        f"o=switchboard {session} {session} IN IP4 {host}",
        "s=switchboard",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(str(p) for p in payloads)}",
    ]
    lines += [f"a=rtpmap:{pt} {codec}/8000" for pt, codec in codecs]
    if dtmf_payload is not None:
        lines += [f"a=rtpmap:{dtmf_payload} telephone-event/8000", f"a=fmtp:{dtmf_payload} 0-16"]
    lines += ["a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()


def offer(host: str, port: int, codecs: tuple[Codec, ...] = ("PCMU", "PCMA")) -> bytes:
    """Our offer: the configured codecs in order, plus telephone-event on PT 101."""
    pts = {"PCMU": 0, "PCMA": 8}
    return build(host, port, tuple((pts[c], c) for c in codecs), DTMF_PAYLOAD)


def answer(
    remote: MediaOffer, host: str, port: int, codecs: tuple[Codec, ...] = ("PCMU", "PCMA")
) -> tuple[Negotiated, bytes]:
    """Answers ``remote``'s offer: the first offered codec we support, DTMF if offered."""
    chosen = next(((pt, c) for pt, c in remote.codecs if c in codecs), None)
    if chosen is None:
        raise SdpError("no common codec")
    body = build(host, port, (chosen,), remote.dtmf_payload)
    return Negotiated(remote.host, remote.port, chosen[1], chosen[0], remote.dtmf_payload), body


def accept_answer(remote: MediaOffer, codecs: tuple[Codec, ...] = ("PCMU", "PCMA")) -> Negotiated:
    """Reads the far end's answer to our offer."""
    chosen = next(((pt, c) for pt, c in remote.codecs if c in codecs), None)
    if chosen is None:
        raise SdpError("the answer has no codec we offered")
    return Negotiated(remote.host, remote.port, chosen[1], chosen[0], remote.dtmf_payload)
