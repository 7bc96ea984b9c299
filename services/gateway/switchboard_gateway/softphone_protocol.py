"""The browser ↔ gateway softphone protocol on ``/softphone/ws``.

Text messages are JSON objects with a ``type``; binary messages are audio, one
20 ms PCM16 LE mono frame at 16 kHz (640 bytes) each, both ways.

Browser → gateway:
    ``{"type": "register", "number": "+1…"}`` first (``number`` optional: the
    gateway's ``softphone_number``); ``{"type": "answer", "call_id": "…"}``;
    ``{"type": "hangup"}`` (ends the call, or declines a ringing one); binary:
    the microphone, only while a call is connected (dropped otherwise).

Gateway → browser:
    ``registered {number, sample_rate}``, ``ringing {call_id, from}``,
    ``connected {call_id}``, ``transcript {seq, speaker, text, interrupted}``
    (a ``seq`` seen before replaces that line), ``bot_done`` (the bot's turn
    was played out), ``clear`` (barge-in: stop the bot's audio now),
    ``transferred {target}``, ``ended {reason}``, ``error {message}``; binary:
    the bot's voice.

Bad input never reaches the dialer: a message that cannot be read closes the
socket with a code and a reason saying why; an unknown ``type`` is answered with
``error`` and otherwise ignored, so a newer page still works with this gateway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from switchboard.phone import (
    PhoneAnswer,
    PhoneHangUp,
)
from switchboard_gateway.phone_link import (
    FRAME_BYTES,
    SAMPLE_RATE,
)

MAX_TEXT_CHARS = 2048
# Messages are flat objects; a deeper one is refused before the JSON parser recurses
# into it (1,000 levels of "[" exhaust Python's recursion limit).
MAX_JSON_DEPTH = 4
MAX_CALL_ID_CHARS = 128

# RFC 6455 codes, and private ones (4000-4999) mirroring the HTTP status they stand for.
CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_AGAIN = 1013
CLOSE_INVALID_ARGUMENT = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_CONFLICT = 4409
CLOSE_FAILED_PRECONDITION = 4412

_MAX_REASON_BYTES = 123  # RFC 6455: a close frame's payload is at most 125 bytes


class ProtocolViolation(Exception):
    """The browser broke the protocol; the socket is closed with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = close_reason(reason)


def close_reason(text: str) -> str:
    """``text`` cut to what fits in a close frame, on a character boundary."""
    data = text.encode()
    if len(data) <= _MAX_REASON_BYTES:
        return text
    return data[: _MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


@dataclass(frozen=True)
class Register:
    number: str  # "" means the gateway's default


@dataclass(frozen=True)
class UnknownType:
    type: str


BrowserCommand = Register | PhoneAnswer | PhoneHangUp | UnknownType

_KNOWN = "register, answer or hangup"


def parse_text(text: str) -> BrowserCommand:
    """One text message from the browser; raises :class:`ProtocolViolation` when unreadable."""
    if len(text) > MAX_TEXT_CHARS:
        raise ProtocolViolation(
            CLOSE_TOO_BIG, f"text messages are limited to {MAX_TEXT_CHARS} characters"
        )
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise ProtocolViolation(
            CLOSE_INVALID_PAYLOAD,
            f"text messages must be flat JSON objects (at most {MAX_JSON_DEPTH} levels deep)",
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolViolation(
            CLOSE_INVALID_PAYLOAD, 'text messages must be JSON objects like {"type": "answer"}'
        ) from exc
    if not isinstance(data, dict):
        raise ProtocolViolation(
            CLOSE_INVALID_PAYLOAD, 'text messages must be JSON objects like {"type": "answer"}'
        )
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolViolation(CLOSE_INVALID_PAYLOAD, f"type must be a string: {_KNOWN}")
    if kind == "register":
        number = _string(data, "number", "register.number", limit=32)
        return Register(number=number)
    if kind == "answer":
        call_id = _string(data, "call_id", "answer.call_id", limit=MAX_CALL_ID_CHARS)
        if not call_id:
            raise ProtocolViolation(CLOSE_INVALID_PAYLOAD, "answer.call_id is required")
        return PhoneAnswer(call_id=call_id)
    if kind == "hangup":
        return PhoneHangUp()
    return UnknownType(type=kind[:40])


def _nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting of a JSON text, brackets inside strings ignored."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _string(data: dict[str, Any], key: str, name: str, limit: int) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolViolation(
            CLOSE_INVALID_PAYLOAD, f"{name} must be a string of at most {limit} characters"
        )
    return value


def check_audio(data: bytes) -> bytes:
    """One microphone frame; raises :class:`ProtocolViolation` unless exactly 20 ms."""
    if len(data) > FRAME_BYTES * 8:
        raise ProtocolViolation(
            CLOSE_TOO_BIG, f"binary messages must be one {FRAME_BYTES}-byte frame"
        )
    if len(data) != FRAME_BYTES:
        raise ProtocolViolation(
            CLOSE_UNSUPPORTED_DATA,
            f"binary messages must be one 20 ms PCM16 frame at {SAMPLE_RATE} Hz: "
            f"{FRAME_BYTES} bytes, got {len(data)}",
        )
    return data


# Gateway → browser.


def registered(number: str) -> dict[str, Any]:
    return {"type": "registered", "number": number, "sample_rate": SAMPLE_RATE}


def ringing(call_id: str, from_number: str) -> dict[str, Any]:
    return {"type": "ringing", "call_id": call_id, "from": from_number}


def connected(call_id: str) -> dict[str, Any]:
    return {"type": "connected", "call_id": call_id}


def transcript(seq: int, speaker: str, text: str, interrupted: bool) -> dict[str, Any]:
    return {
        "type": "transcript",
        "seq": seq,
        "speaker": speaker,
        "text": text,
        "interrupted": interrupted,
    }


def ended(reason: str) -> dict[str, Any]:
    return {"type": "ended", "reason": reason}


def error(message: str) -> dict[str, Any]:
    return {"type": "error", "message": message}
