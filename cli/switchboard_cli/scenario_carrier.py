"""``simulate --voice --carrier twilio|acs``: the scenario's callee on a fake carrier's phone.

The services run with ``dialer.telephony`` set to the carrier and its real SDK pointed at
the fake (:mod:`switchboard_testing.carrier_rigs`). The call is placed through the REST
API; the dialer asks the fake carrier to ring the number, the fake answers it as that
carrier does and connects its media socket to the gateway; from then on the callee's
lines (spoken by Piper through the Speech service, at the carrier's rate) travel the
carrier's media path in real time, and the bot's audio comes back the same way.

Turn-taking: the callee speaks once the bot finished a turn after its last line
(Twilio's ``mark`` for the turn; ACS, which has no marks, 1.2 s of bot silence), after a
person's pause. A line with ``interrupt_after_ms`` is said over the bot instead. The
phone hears the bot only as audio, so the bot's words are printed from the store's call
events as they are saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from switchboard import domain
from switchboard.call_events import CallEvent
from switchboard.speech import SpeakConfig
from switchboard.speech_client import SpeechClient
from switchboard.store_client import StoreClient
from switchboard_cli.scenario import (
    CustomerLine,
    Echo,
    Scenario,
    SimulatedCallee,
    SimulationResult,
)
from switchboard_testing.carrier_rigs import CarrierPhone, CarrierRig, wait_until

# A person's pause between the bot falling silent and answering.
REPLY_GAP_SEC = 0.3
PICK_UP_SEC = 30.0
TURN_WAIT_SEC = 60.0
CALLEE_CALL_ID = "callee"


class CarrierCallee(SimulatedCallee):
    """Plays a scenario's callee on a fake carrier's phone."""

    def __init__(
        self,
        scenario: Scenario,
        gateway_url: str,
        api_key: str,
        speech_address: str,
        store_address: str,
        rig: CarrierRig,
        echo: Echo | None = None,
    ) -> None:
        super().__init__(scenario, gateway_url, api_key, "", echo)
        self._speech_address = speech_address
        self._store_address = store_address
        self._rig = rig

    async def run(self, limit_sec: float = 300.0) -> SimulationResult:
        voices = await self._synthesise()
        store = StoreClient(self._store_address)
        try:
            async with self._rig, asyncio.timeout(limit_sec):
                call_id = await self._place_call()
                printer = asyncio.create_task(self._print_bot(store, call_id), name="bot-words")
                try:
                    phone = await self._rig.pick_up(self._scenario.phone_number, PICK_UP_SEC)
                    reason = await self._converse_on_carrier(phone, voices)
                    call = await self._final_call(call_id)
                finally:
                    printer.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await printer
        finally:
            await store.close()
        self._hear("system", f"call ended ({call.get('state_reason') or reason})")
        return SimulationResult(
            call=call, heard=self._heard, end_reason=reason, reply_ms=self._reply_ms
        )

    async def _synthesise(self) -> dict[int, bytes]:
        """Each spoken line as PCM at the carrier's rate, by line index."""
        spoken = [(i, line.say) for i, line in enumerate(self._scenario.customer) if line.say]
        speech = SpeechClient(self._speech_address, wait_for_ready=True)
        try:
            config = SpeakConfig(CALLEE_CALL_ID, self._rig.sample_rate, lang="en-US")
            audio = await speech.synthesise(config, [text for _, text in spoken], "callee")
        finally:
            await speech.close()
        return {i: b"".join(frames) for (i, _), frames in zip(spoken, audio, strict=True)}

    async def _converse_on_carrier(self, phone: CarrierPhone, voices: dict[int, bytes]) -> str:
        said_at = 0.0  # when the callee last finished a line (monotonic)
        for index, line in enumerate(self._scenario.customer):
            if not await self._wait_turn(phone, line, said_at):
                return "ended"
            if line.hangup:
                self._hear("caller", "(hangs up)")
                await phone.hang_up()
                return "caller_hangup"
            if line.dtmf:
                self._hear("caller", f"(presses {line.dtmf})")
                await phone.press(line.dtmf)
            elif line.silence:
                self._hear("caller", "(silent)")
            else:
                prefix = "(interrupting) " if line.interrupt_after_ms is not None else ""
                self._hear("caller", prefix + line.say)
                await phone.say(voices[index])
            said_at = time.monotonic()
            self._reply_ms_after(phone, index, said_at)
        # Nothing left to say: the bot ends the call (or the limit does).
        await wait_until(lambda: phone.ended, TURN_WAIT_SEC, "the end of the call")
        return "ended"

    async def _wait_turn(self, phone: CarrierPhone, line: CustomerLine, said_at: float) -> bool:
        """Waits for the moment to act on ``line``; False when the call ended first."""
        if line.interrupt_after_ms is not None:
            delay = line.interrupt_after_ms / 1000

            def talking_long_enough() -> bool:
                frames = [t for t, _ in phone.bot_frames() if t > said_at]
                return phone.ended or (bool(frames) and time.monotonic() - frames[0] >= delay)

            await wait_until(talking_long_enough, TURN_WAIT_SEC, "the bot's audio")
            return not phone.ended
        await wait_until(
            lambda: phone.ended or phone.turn_done_after(said_at), TURN_WAIT_SEC, "the bot's turn"
        )
        if phone.ended:
            return False
        await asyncio.sleep(REPLY_GAP_SEC)
        return True

    def _reply_ms_after(self, phone: CarrierPhone, index: int, said_at: float) -> None:
        """Notes, in the background, when the bot's audio answered line ``index``."""

        async def first_reply() -> None:
            first = await wait_until(
                lambda: next((t for t, _ in phone.bot_frames() if t > said_at), None),
                TURN_WAIT_SEC,
                "the bot's reply",
            )
            self._reply_ms[index] = (first - said_at) * 1000

        task = asyncio.get_running_loop().create_task(first_reply())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _print_bot(self, store: StoreClient, call_id: str) -> None:
        """The bot's words as the store saves them (each message once)."""
        printed: set[int] = set()
        async for event in store.watch_call(call_id):
            message = bot_message(event)
            if message is not None and message.seq not in printed:
                printed.add(message.seq)
                self._hear("bot", message.content.strip())


def bot_message(event: CallEvent) -> domain.Message | None:
    """The event's spoken bot message; None for any other event."""
    message = event.payload
    if (
        isinstance(message, domain.Message)
        and message.persona is domain.Persona.ASSISTANT
        and message.action is domain.MessageAction.TALK
        and message.content.strip()
    ):
        return message
    return None
