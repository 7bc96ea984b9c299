"""Fakes for the dialer's tests: an in-memory store, a scripted brain, a rig on a virtual clock.

They implement the same interfaces as ``StoreClient`` and ``BrainClient``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from switchboard import domain
from switchboard.blobs import BlobStore
from switchboard.call_leases import CallLease
from switchboard.config import DialerSettings, Features, RecordingSettings, Settings
from switchboard.converse import (
    AgentSendDtmf,
    AgentSentence,
    AgentTransfer,
    AgentTurnDone,
    CallTimeUp,
    ConversationStart,
    ConverseRequest,
    ConverseResponse,
    EndCallRequest,
    ExpectAnswer,
    ExpectedAnswer,
    SilenceTimeout,
    SmsRequest,
    SpeechSettings,
    UserTurn,
)
from switchboard.domain import ClaimFieldType
from switchboard.errors import FailedPrecondition, NotFound, Unavailable
from switchboard.features import FeatureFlags
from switchboard.media import AudioFrame
from switchboard.phone import (
    BotSaid,
    BotTurnDone,
    PhoneAnswer,
    PhoneConnected,
    PhoneDownlink,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneUplink,
)
from switchboard_dialer.app import DialerApp, build_dialer
from switchboard_dialer.telephony.simulator import SimulatedPhone, SimulatorProvider
from switchboard_testing.clock import VirtualClock
from switchboard_testing.speech_fakes import FakeSpeech

T = TypeVar("T")

GREETING = "Hello, this is Switchboard."
STILL_THERE = "Are you still there?"
TIME_UP = "I'm sorry, this call has reached its time limit. Goodbye."
DRAINED = "I'm sorry, I have to end this call now. Goodbye."


class FakeStore:
    """Calls in a dict; records every state change as (state, reason)."""

    def __init__(self) -> None:
        self.calls: dict[str, domain.Call] = {}
        self.states: dict[str, list[tuple[domain.CallState, str]]] = {}
        self.now = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
        # Dialer leases: the holder of each leased call, the calls whose lease a test
        # lets expire, every renewal (owner, ids) and every sweep (owner or "").
        self.leases: dict[str, str] = {}
        self.expired: set[str] = set()
        self.renewals: list[tuple[str, list[str]]] = []
        self.sweeps: list[str] = []

    async def create_call(
        self, initiate: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call:
        call = domain.Call(
            call_id=str(uuid.uuid4()),
            initiate=initiate,
            direction=direction,
            created_at=self.now,
            updated_at=self.now,
        )
        self.calls[call.call_id] = call
        self.states[call.call_id] = []
        return call.model_copy(deep=True)

    async def get_call(self, call_id: str) -> domain.Call:
        if call_id not in self.calls:
            raise NotFound("no such call")
        return self.calls[call_id].model_copy(deep=True)

    async def find_open_call(
        self, phone_number: str, within_hours: float, initiate: domain.CallRequest | None = None
    ) -> domain.Call | None:
        if within_hours <= 0:
            return None
        since = self.now - timedelta(hours=within_hours)
        for call in sorted(
            self.calls.values(), key=lambda c: c.created_at or self.now, reverse=True
        ):
            if call.initiate.phone_number != phone_number or call.state is domain.CallState.FAILED:
                continue
            if call.created_at is not None and call.created_at < since:
                continue
            if initiate is not None and call.initiate != initiate:
                continue
            return call.model_copy(deep=True)
        return None

    async def set_call_state(
        self,
        call_id: str,
        state: domain.CallState,
        reason: str = "",
        lease: CallLease | None = None,
    ) -> domain.Call:
        call = self.calls.get(call_id)
        if call is None:
            raise NotFound("no such call")
        if state.is_terminal:
            self.leases.pop(call_id, None)
        elif lease is not None:
            if self.leases.get(call_id, lease.owner) != lease.owner and call_id not in self.expired:
                raise FailedPrecondition("the call is live on another dialer replica")
            self.leases[call_id] = lease.owner
            self.expired.discard(call_id)
        if state is domain.CallState.DIALING and call.state.is_terminal:
            call.attempt += 1  # dialled again: a resumed conversation
        call.state = state
        call.state_reason = reason
        self.states[call_id].append((state, reason))
        return call.model_copy(deep=True)

    async def append_messages(
        self, call_id: str, messages: list[domain.Message], policy_state: str | None = None
    ) -> list[domain.Message]:
        call = self.calls[call_id]
        stored = []
        for message in messages:
            copy = message.model_copy(update={"seq": len(call.messages) + 1})
            call.messages.append(copy)
            stored.append(copy)
        return stored

    async def renew_call_leases(
        self, owner: str, call_ids: list[str], lease_sec: float
    ) -> list[str]:
        self.renewals.append((owner, list(call_ids)))
        return [c for c in call_ids if self.leases.get(c) == owner and c not in self.expired]

    async def end_orphaned_calls(self, owner: str = "", limit: int = 100) -> list[str]:
        self.sweeps.append(owner)
        orphans = [
            c
            for c, held_by in self.leases.items()
            if (held_by == owner if owner else c in self.expired)
        ][:limit]
        for call_id in orphans:
            await self.set_call_state(call_id, domain.CallState.ENDED, "line_dropped")
        return orphans

    def reasons(self, call_id: str) -> list[str]:
        return [
            f"{state.value}:{reason}" if reason else state.value
            for state, reason in self.states[call_id]
        ]


# What the scripted brain's greeting and "call me back" answer ask the caller for.
EXPECT_DATE = ExpectedAnswer(ClaimFieldType.DATETIME, "US")
EXPECT_PHONE = ExpectedAnswer(ClaimFieldType.PHONE_NUMBER, "FR")


def answer_to(turn: UserTurn) -> list[ConverseResponse]:
    """What the scripted brain says to a caller turn."""
    text = turn.text.lower()
    tid = turn.turn_id
    if "goodbye" in text:
        return [
            AgentSentence(tid, 0, "Goodbye."),
            EndCallRequest(tid, "goodbye"),
            AgentTurnDone(tid),
        ]
    if "text me" in text:
        return [
            AgentSentence(tid, 0, "I am texting you the details now."),
            SmsRequest("+14155550100", "Your claim is open.", tid),
            AgentTurnDone(tid),
        ]
    if "call me back" in text:  # the answer asks for a number: the dialer tells Listen
        return [
            AgentSentence(tid, 0, "What number should we call?"),
            ExpectAnswer(tid, EXPECT_PHONE),
            AgentTurnDone(tid),
        ]
    if "en français" in text:  # the brain switches the call's language
        return [
            SpeechSettings("fr-FR", 0.0),
            AgentSentence(tid, 0, "D'accord."),
            AgentTurnDone(tid),
        ]
    if "press one" in text:  # a menu on the line: the bot presses 1 after its sentence
        return [
            AgentSentence(tid, 0, "Pressing one."),
            AgentSendDtmf(tid, "1"),
            AgentTurnDone(tid),
        ]
    if "human" in text:
        return [
            AgentSentence(tid, 0, "Let me transfer you."),
            AgentTransfer(tid, ""),
            AgentTurnDone(tid),
        ]
    return [
        AgentSentence(tid, 0, f"You said: {turn.text}."),
        AgentSentence(tid, 1, "Anything else?"),
        AgentTurnDone(tid),
    ]


class FakeConverseStream:
    """One scripted conversation stream; ``send`` answers synchronously into a queue."""

    def __init__(self, brain: ScriptedBrain) -> None:
        self._brain = brain
        self._out: asyncio.Queue[ConverseResponse | Exception | None] = asyncio.Queue()
        self.closed = False

    async def send(self, request: ConverseRequest) -> None:
        if self.closed:
            raise Unavailable("stream closed")
        self._brain.received.append(request)
        match request:
            case ConversationStart(reconnect=False):
                greeting = (
                    AgentSentence("greet", 0, GREETING),
                    ExpectAnswer("greet", EXPECT_DATE),
                    AgentTurnDone("greet"),
                )
                for event in greeting:
                    self._out.put_nowait(event)
            case UserTurn():
                events = answer_to(request)
                if "slow" in request.text:  # the brain's soft timeout: a filler first
                    tid = request.turn_id
                    events = [AgentSentence(tid, 0, "One moment.", filler=True), *events]
                if self._brain.die_after_sentences is not None:
                    cut = self._brain.die_after_sentences
                    self._brain.die_after_sentences = None
                    for event in events[:cut]:
                        self._out.put_nowait(event)
                    self._out.put_nowait(Unavailable("brain process killed"))
                    return
                for event in events:
                    self._out.put_nowait(event)
            case CallTimeUp(reason=reason) if self._brain.answers_time_up:
                tid = "time-up"
                for event in (
                    AgentSentence(tid, 0, DRAINED if reason == "drained" else TIME_UP),
                    EndCallRequest(tid, reason),
                    AgentTurnDone(tid),
                ):
                    self._out.put_nowait(event)
            case SilenceTimeout(count=count):
                tid = f"silence-{count}-{len(self._brain.received)}"
                for event in (AgentSentence(tid, 0, STILL_THERE), AgentTurnDone(tid)):
                    self._out.put_nowait(event)
            case _:
                pass

    def fail(self, error: Exception) -> None:
        self._out.put_nowait(error)

    async def receive(self) -> ConverseResponse | None:
        item = await self._out.get()
        if isinstance(item, Exception):
            self.closed = True
            raise item
        return item

    async def close(self) -> None:
        self.closed = True


class ScriptedBrain:
    """A brain that greets, echoes, says goodbye on "goodbye", transfers on "human" and
    presses 1 on "press one"."""

    def __init__(self) -> None:
        self.received: list[ConverseRequest] = []
        self.streams: list[FakeConverseStream] = []
        self.die_after_sentences: int | None = None
        self.answers_time_up = True
        self.down = False

    def kill(self) -> None:
        """The brain dies and stays down: open streams fail, new ones are refused."""
        self.down = True
        for stream in self.streams:
            stream.fail(Unavailable("brain process killed"))

    async def converse(self) -> FakeConverseStream:
        if self.down:
            raise Unavailable("connection refused")
        stream = FakeConverseStream(self)
        self.streams.append(stream)
        return stream

    def requests(self, kind: type) -> list[ConverseRequest]:
        return [r for r in self.received if isinstance(r, kind)]


class PhoneProbe:
    """A text phone attached straight to the simulator, read like a transcript."""

    def __init__(self, provider: SimulatorProvider, number: str, auto_answer: bool = False) -> None:
        self.phone = provider.register(
            PhoneRegister(number=number, mode=PhoneMode.TEXT, auto_answer=auto_answer)
        )
        self._downlink = self.phone.downlink()

    async def next(self, wait_sec: float = 2.0) -> PhoneDownlink:
        async with asyncio.timeout(wait_sec):
            return await anext(self._downlink)

    async def expect(self, kind: type[T], wait_sec: float = 2.0) -> T:
        event = await self.next(wait_sec)
        assert isinstance(event, kind), f"expected {kind.__name__}, got {event!r}"
        return event

    async def until(self, kind: type, wait_sec: float = 2.0) -> list[PhoneDownlink]:
        """Every event up to and including the first of ``kind``."""
        events = []
        while True:
            event = await self.next(wait_sec)
            events.append(event)
            if isinstance(event, kind):
                return events

    async def send(self, event: PhoneUplink) -> None:
        await self.phone.handle(event)


def said(events: list[PhoneDownlink]) -> list[str]:
    return [e.text for e in events if isinstance(e, BotSaid)]


def downlink(phone: SimulatedPhone) -> list[PhoneDownlink]:
    """Everything the simulated phone has been sent since the last look."""
    events = []
    while not phone._downlink.empty():
        event = phone._downlink.get_nowait()
        assert event is not None
        events.append(event)
    return events


def audio_frames(events: list[PhoneDownlink]) -> int:
    """How many of ``events`` are bot audio frames."""
    return sum(isinstance(e, AudioFrame) for e in events)


def make_request(
    number: str = "+14155550100", task: str = "Collect the claim."
) -> domain.CallRequest:
    return domain.CallRequest(
        bot_company="Contoso",
        bot_name="Amy",
        phone_number=number,
        agent_phone_number="+14155550199",
        task=task,
        claim=(domain.ClaimField(name="incident", type=domain.ClaimFieldType.TEXT),),
    )


@dataclass
class Rig:
    """A dialer on fakes: store, scripted brain, simulator, all on one virtual clock."""

    store: FakeStore
    brain: ScriptedBrain
    clock: VirtualClock
    telephony: SimulatorProvider
    app: DialerApp
    settings: DialerSettings
    speech: FakeSpeech

    def phone(self, number: str = "+14155550100", auto_answer: bool = False) -> PhoneProbe:
        return PhoneProbe(self.telephony, number, auto_answer)

    async def place(self, number: str = "+14155550100") -> domain.Call:
        return await self.app.dialer.place_call(make_request(number))

    async def connect(self, number: str = "+14155550100") -> tuple[PhoneProbe, domain.Call]:
        """Places a call to a fresh phone, answers it and reads the greeting."""
        phone = self.phone(number)
        call = await self.place(number)
        ringing = await phone.expect(PhoneRinging)
        assert ringing.call_id == call.call_id
        await phone.send(PhoneAnswer(call_id=call.call_id))
        await phone.expect(PhoneConnected)
        assert said(await phone.until(BotTurnDone)) == [GREETING]
        return phone, call

    async def ended(self, call_id: str) -> list[str]:
        """Waits until the call's life is over; its state history."""
        async with asyncio.timeout(3):
            await self.app.registry.wait_ended(call_id)
        return self.store.reasons(call_id)


def build_rig(
    features: Features | None = None,
    blobs: BlobStore | None = None,
    recording: RecordingSettings | None = None,
    **dialer: Any,
) -> Rig:
    """Everything on one virtual clock: call timers, playout and brain and speech reconnects.
    With ``blobs``, calls are recorded there (when ``features`` turn recording on)."""
    store, brain, clock, speech = FakeStore(), ScriptedBrain(), VirtualClock(), FakeSpeech()
    telephony = SimulatorProvider(clock=clock)
    # Answer screening waits for the callee's audio, which most rig tests do not send;
    # its own tests turn it on.
    dialer.setdefault("voicemail", {"enabled": False})
    settings = DialerSettings(**dialer)
    app = build_dialer(
        store,
        brain,
        telephony,
        FeatureFlags(features or Features()),
        Settings(dialer=settings, recording=recording or RecordingSettings()),
        speech=speech,
        clock=clock,
        blobs=blobs,
    )
    return Rig(store, brain, clock, telephony, app, settings, speech)
