"""One ACS media WebSocket bridged to its call on the dialer (``Dialer.Phone`` ``attach``).

ACS → us: ``AudioMetadata`` once, then ``AudioData`` (base64 PCM16 16 kHz mono, 20 ms
at a time) and ``DtmfData``. Us → ACS: ``AudioData`` and ``StopAudio``. Bot frames
and the stop are written in the order the dialer sends them, so ``StopAudio`` leaves
in the same frame slot the playout stopped in. ACS documents PascalCase
(``Kind``/``AudioData``) and sends camelCase; both are accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from switchboard.media import AudioFrame, Dtmf
from switchboard.phone import ClearAudio, PhoneCallEnded
from switchboard.tasks import run_until_first_ends
from switchboard_gateway.phone_link import FRAME_BYTES, PhoneStream

log = logging.getLogger(__name__)

CANCEL_WAIT_SEC = 2.0
SAMPLE_RATE = 16000
STOP_AUDIO = json.dumps({"kind": "StopAudio", "audioData": None, "stopAudio": {}})


class MediaRefused(Exception):
    """ACS sent something this bridge cannot carry; ends the socket."""


def _field(message: dict[str, Any], name: str) -> Any:
    """``audioData`` or ``AudioData``: ACS's docs and its service disagree on case."""
    return message.get(name, message.get(name[0].upper() + name[1:]))


def audio_message(pcm: bytes) -> str:
    return json.dumps({"kind": "AudioData", "audioData": {"data": base64.b64encode(pcm).decode()}})


class AcsMediaBridge:
    """Runs one attached media socket until ACS or the dialer ends it."""

    def __init__(self, socket: WebSocket, stream: PhoneStream) -> None:
        self._socket = socket
        self._stream = stream
        self._pending = b""  # caller audio short of a whole 20 ms frame
        self.frames_in = 0
        self.frames_out = 0

    async def run(self) -> None:
        try:
            await run_until_first_ends(
                "acs-media",
                {"acs-rx": self._from_acs(), "dialer-rx": self._from_dialer()},
                CANCEL_WAIT_SEC,
            )
        except (WebSocketDisconnect, MediaRefused) as exc:
            log.info("acs media socket ended", extra={"why": type(exc).__name__})
        finally:
            await self._stream.close()
            log.info(
                "acs media detached",
                extra={"frames_in": self.frames_in, "frames_out": self.frames_out},
            )

    async def _from_acs(self) -> None:
        while True:
            message = await self._socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise MediaRefused("ACS media messages are JSON text")
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                raise MediaRefused("not JSON") from exc
            if isinstance(parsed, dict):
                await self._on_message(parsed)

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = str(_field(message, "kind") or "")
        if kind == "AudioData":
            data = _field(message, "audioData") or {}
            try:
                pcm = base64.b64decode(str(data.get("data") or ""), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MediaRefused("audioData.data is not base64") from exc
            self._pending += pcm
            while len(self._pending) >= FRAME_BYTES:
                frame, self._pending = self._pending[:FRAME_BYTES], self._pending[FRAME_BYTES:]
                self.frames_in += 1
                await self._stream.send(AudioFrame(frame))
        elif kind == "DtmfData":
            digits = str((_field(message, "dtmfData") or {}).get("data") or "")
            if digits:
                await self._stream.send(Dtmf(digits=digits))
        elif kind == "AudioMetadata":
            meta = _field(message, "audioMetadata") or {}
            if int(meta.get("sampleRate") or SAMPLE_RATE) != SAMPLE_RATE:
                raise MediaRefused("acs media must be PCM 16 kHz mono")

    async def _from_dialer(self) -> None:
        async for event in self._stream.events():
            match event:
                case AudioFrame(pcm=pcm):
                    self.frames_out += 1
                    await self._socket.send_text(audio_message(pcm))
                case ClearAudio():
                    await self._socket.send_text(STOP_AUDIO)
                case PhoneCallEnded():
                    return
