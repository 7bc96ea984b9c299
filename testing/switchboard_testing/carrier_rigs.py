"""A fake carrier and its phone behind one interface, for ``switchboard simulate --carrier``
and the carrier benchmarks (never shipped to a service).

A :class:`CarrierRig` is one fake carrier (:mod:`fake_twilio` or :mod:`fake_acs`): the
settings that point the services' real SDKs at it (:meth:`CarrierRig.service_env`),
its lifetime (``async with``), and :meth:`CarrierRig.pick_up`, which waits for the call
the dialer placed to a number and answers it the way that carrier does (Twilio: status
callbacks, then the signed Media Stream; ACS: ``CallConnected``, then the media socket
with its JWT). The :class:`CarrierPhone` it returns is the callee's handset: it speaks
PCM at the carrier's rate in real time, presses keys, hangs up, and tells when the bot
talks and when it finished a turn.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from switchboard_testing.fake_acs import AcsSigner, FakeAcs
from switchboard_testing.fake_acs import FakeCall as AcsCall
from switchboard_testing.fake_twilio import FakeTwilio, MediaStreamPhone
from switchboard_testing.ports import free_tcp_port

CARRIERS = ("twilio", "acs")
TWILIO_ACCOUNT = "AC" + "0123456789abcdef" * 2
TWILIO_NUMBER = "+14155550100"
ACS_NUMBER = "+18005550100"
# AzureKeyCredential signs requests with HMAC: the key must be base64.
ACS_ACCESS_KEY = "ZmFrZS1hY3Mta2V5LWZvci10ZXN0cw=="
# ACS says nothing when a turn ends: this long without bot audio counts as its end.
ACS_TURN_QUIET_SEC = 1.2
POLL_SEC = 0.05


class CarrierPhone(Protocol):
    """The callee's handset on a fake carrier's call."""

    @property
    def sample_rate(self) -> int: ...

    async def say(self, pcm: bytes) -> None:
        """Speaks ``pcm`` (PCM16 at :attr:`sample_rate`); returns once it was sent."""
        ...

    async def press(self, digits: str) -> None: ...

    async def hang_up(self) -> None: ...

    def bot_frames(self) -> list[tuple[float, bytes]]:
        """The bot's audio as it arrived (monotonic time, PCM16)."""
        ...

    def turn_done_after(self, since: float) -> bool:
        """Whether the bot finished a turn it started after ``since`` (monotonic)."""
        ...

    def bot_stopped_at(self, since: float) -> float | None:
        """When the carrier was first told to stop the bot's audio after ``since``."""
        ...

    @property
    def ended(self) -> bool:
        """The call is over for the phone (the carrier closed its media)."""
        ...


class CarrierRig(Protocol):
    name: str
    sample_rate: int  # of the phone's audio

    def service_env(self, gateway_url: str) -> dict[str, str]:
        """``SWITCHBOARD__…`` settings that run the dialer (and gateway) on this carrier."""
        ...

    async def __aenter__(self) -> CarrierRig: ...

    async def __aexit__(self, *_: object) -> None: ...

    async def pick_up(self, number: str, within_sec: float = 30.0) -> CarrierPhone:
        """Answers the call the dialer placed to ``number``; its media is connected."""
        ...


def carrier_rig(name: str) -> CarrierRig:
    if name == "twilio":
        return TwilioRig()
    if name == "acs":
        return AcsRig()
    raise ValueError(f"unknown carrier {name!r}; choose one of {', '.join(CARRIERS)}")


async def wait_until(check: Callable[[], Any], within_sec: float, what: str) -> Any:
    deadline = time.monotonic() + within_sec
    while not (value := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {within_sec:.0f} s")
        await asyncio.sleep(POLL_SEC)
    return value


# Twilio.


class TwilioPhone:
    sample_rate = 8000

    def __init__(self, stream: MediaStreamPhone) -> None:
        self._stream = stream

    async def say(self, pcm: bytes) -> None:
        await self._stream.say(pcm)

    async def press(self, digits: str) -> None:
        for digit in digits:
            await self._stream.dtmf(digit)

    async def hang_up(self) -> None:
        await self._stream.hang_up()

    def bot_frames(self) -> list[tuple[float, bytes]]:
        return self._stream.heard.media

    def turn_done_after(self, since: float) -> bool:
        # The turn's mark comes back once its last frame was played; it must belong to a
        # turn whose audio started after ``since``.
        heard = self._stream.heard
        first_audio = next((t for t, _ in heard.media if t > since), None)
        return first_audio is not None and any(
            t > first_audio and "/" not in name for t, name in heard.marks
        )

    def bot_stopped_at(self, since: float) -> float | None:
        return next((t for t in self._stream.heard.clears if t > since), None)

    @property
    def ended(self) -> bool:
        return self._stream.closed_by_bot


class TwilioRig:
    """The fake Twilio's REST on loopback; the phone a Media Stream to the gateway."""

    name = "twilio"
    sample_rate = TwilioPhone.sample_rate

    def __init__(self) -> None:
        self._token = secrets.token_hex(16)
        self.twilio = FakeTwilio(TWILIO_ACCOUNT, self._token)
        self._phones: list[MediaStreamPhone] = []

    def service_env(self, gateway_url: str) -> dict[str, str]:
        return {
            "SWITCHBOARD__DIALER__TELEPHONY": "twilio",
            "SWITCHBOARD__DIALER__SMS": "twilio",
            "SWITCHBOARD__DIALER__TWILIO__ACCOUNT_SID": TWILIO_ACCOUNT,
            "SWITCHBOARD__DIALER__TWILIO__FROM_NUMBER": TWILIO_NUMBER,
            "SWITCHBOARD__DIALER__TWILIO__PUBLIC_URL": gateway_url,
            "SWITCHBOARD__DIALER__TWILIO__API_BASE_URL": self.twilio.base_url,
            "TWILIO_AUTH_TOKEN": self._token,
        }

    async def __aenter__(self) -> TwilioRig:
        self.twilio.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        for phone in self._phones:
            await phone.close()
        self.twilio.stop()

    async def pick_up(self, number: str, within_sec: float = 30.0) -> CarrierPhone:
        call = await asyncio.to_thread(self.twilio.wait_call, number, within_sec)
        for status in ("ringing", "in-progress"):
            reply = await asyncio.to_thread(self.twilio.status, call, status)
            reply.raise_for_status()
        stream = MediaStreamPhone(self.twilio, call.sid, call.params["Twiml"])
        await stream.connect()
        self._phones.append(stream)
        return TwilioPhone(stream)


# Azure Communication Services.


class AcsPhone:
    sample_rate = 16000

    def __init__(self, fake: FakeAcs, call: AcsCall) -> None:
        self._fake = fake
        self.call = call

    async def say(self, pcm: bytes) -> None:
        await self.call.say(pcm)

    async def press(self, digits: str) -> None:
        await self.call.press(digits)

    async def hang_up(self) -> None:
        await self._fake.hang_up(self.call)

    def bot_frames(self) -> list[tuple[float, bytes]]:
        # The fake keeps the bot's audio as one buffer and an event per frame.
        at = [e.at for e in self.call.bot_events if e.kind == "audio"]
        audio, size = bytes(self.call.bot_audio), 640
        return [(t, audio[i * size : (i + 1) * size]) for i, t in enumerate(at)]

    def turn_done_after(self, since: float) -> bool:
        events = [e for e in self.call.bot_events if e.kind == "audio" and e.at > since]
        return bool(events) and time.monotonic() - events[-1].at >= ACS_TURN_QUIET_SEC

    def bot_stopped_at(self, since: float) -> float | None:
        return next((t for t in self.call.stops() if t > since), None)

    @property
    def ended(self) -> bool:
        return self.call.media_closed.is_set()


class AcsRig:
    """The fake ACS resource on loopback: REST, JWKS, signed callbacks and the phone."""

    name = "acs"
    sample_rate = AcsPhone.sample_rate

    def __init__(self) -> None:
        self._port = free_tcp_port()
        self._signer = AcsSigner()
        self._signing_key = secrets.token_urlsafe(24)
        self._event_grid_secret = secrets.token_urlsafe(16)
        self._gateway_url = ""
        self.fake: FakeAcs | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def service_env(self, gateway_url: str) -> dict[str, str]:
        self._gateway_url = gateway_url
        return {
            "SWITCHBOARD__DIALER__TELEPHONY": "acs",
            "SWITCHBOARD__DIALER__SMS": "acs",
            "SWITCHBOARD__ACS__ENDPOINT": self.endpoint,
            "SWITCHBOARD__ACS__ACCESS_KEY": ACS_ACCESS_KEY,
            "SWITCHBOARD__ACS__CALLER_ID": ACS_NUMBER,
            "SWITCHBOARD__ACS__PUBLIC_URL": gateway_url,
            "SWITCHBOARD__ACS__URL_SIGNING_KEY": self._signing_key,
            "SWITCHBOARD__ACS__EVENT_GRID_SECRET": self._event_grid_secret,
            "SWITCHBOARD__ACS__RESOURCE_ID": self._signer.resource_id,
            "SWITCHBOARD__ACS__JWKS_URL": f"{self.endpoint}/calling/keys",
        }

    async def __aenter__(self) -> AcsRig:
        self.fake = FakeAcs(self._port, self._signer, self._gateway_url)
        await self.fake.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.fake is not None:
            await self.fake.stop()

    async def pick_up(self, number: str, within_sec: float = 30.0) -> CarrierPhone:
        fake = self.fake
        assert fake is not None, "use the rig in async with"

        def placed() -> AcsCall | None:
            return next((c for c in fake.calls.values() if c.target == number), None)

        call: AcsCall = await wait_until(placed, within_sec, f"an ACS call to {number}")
        await wait_until(lambda: call.socket is not None, within_sec, "the ACS media socket")
        return AcsPhone(fake, call)
