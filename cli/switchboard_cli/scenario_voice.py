"""Voice mode of simulated calls: the callee speaks and listens, like a person on a phone.

The callee's lines are synthesised by the running Speech service (``Speak``) and
streamed to the dialer's virtual phone as 20 ms frames, in real time or
``speed`` times faster. The phone's uplink never stops: between lines it
carries silence, as a real line does. The bot's words are printed as the dialer
reports them, each sentence once its last frame was played (a sentence cut off by
a barge-in is not). With ``transcribe_bot`` the bot's audio that reaches the
phone also goes through ``Speech.Listen``, and what the callee actually heard is
printed too (speaker ``heard``): a check of the voice, not of the words.

Turn-taking: the callee waits for ``bot_turn_done``, which the dialer sends in
voice mode only once the turn's last frame was played, i.e. when the bot
stopped talking; then it pauses like a person (``REPLY_GAP_SEC``) and speaks.
A line with ``interrupt_after_ms`` is said over the bot instead (barge-in); a
first line ``at_answer`` is said when the callee picks up (``beep_ms`` ends it
with a tone, like an answering machine).
Before each line the callee waits, briefly, for the transcript of what the bot
said, so the printout keeps the order of the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from switchboard.errors import Unavailable
from switchboard.media import AudioFrame
from switchboard.phone import (
    BotSaid,
    BotTurnDone,
    ClearAudio,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneTransferred,
)
from switchboard.phone_client import GrpcPhoneStream, PhoneClient
from switchboard.speech import (
    ListenConfig,
    SpeakConfig,
    SpeechStarted,
    Transcript,
)
from switchboard.speech_client import GrpcListenStream, SpeechClient
from switchboard_cli.scenario import (
    BeforeLine,
    CustomerLine,
    Echo,
    Scenario,
    SimulatedCallee,
    SimulationResult,
    register_phone,
)

FRAME_SEC = 0.020
# A person's pause between the bot falling silent and answering.
REPLY_GAP_SEC = 0.3
# How long the callee waits for the transcript of the bot's last words before speaking.
TRANSCRIPT_WAIT_SEC = 5.0
# Frames louder than this RMS (PCM16) count as voiced: where a line's speech starts and ends.
VOICED_RMS = 500.0
CALLEE_TURN = "callee"
CALLEE_CALL_ID = "callee"  # the Speak and Listen streams of the callee's own mouth and ear


def frame_bytes(sample_rate: int) -> int:
    return sample_rate // 50 * 2


def voiced_span(frames: list[bytes]) -> tuple[int, int]:
    """Indexes of the first and last voiced frame (TTS pads speech with silence)."""
    loud = [i for i, f in enumerate(frames) if _rms(f) > VOICED_RMS]
    return (loud[0], loud[-1]) if loud else (0, max(0, len(frames) - 1))


def with_noise(frames: list[bytes], snr_db: float, seed: int = 0) -> list[bytes]:
    """``frames`` with white noise at ``snr_db`` below the line's voiced power (reproducible)."""
    rng = random.Random(seed)
    voiced = [f for f in frames if _rms(f) > VOICED_RMS] or frames
    power = sum(_rms(f) ** 2 for f in voiced) / max(1, len(voiced))
    sigma = math.sqrt(power / (10 ** (snr_db / 10)))
    noisy = []
    for frame in frames:
        samples = array("h", frame)
        for i, s in enumerate(samples):
            samples[i] = max(-32768, min(32767, int(s + rng.gauss(0.0, sigma))))
        noisy.append(samples.tobytes())
    return noisy


def tone_frames(hz: float, ms: int, sample_rate: int, amplitude: int = 8000) -> list[bytes]:
    """A steady sine tone (an answering machine's beep) as 20 ms frames."""
    per_frame = frame_bytes(sample_rate) // 2
    count = max(1, round(ms / 1000 / FRAME_SEC))
    step = 2 * math.pi * hz / sample_rate
    frames = []
    for f in range(count):
        start = f * per_frame
        samples = array(
            "h", (int(amplitude * math.sin(step * (start + i))) for i in range(per_frame))
        )
        frames.append(samples.tobytes())
    return frames


def _rms(frame: bytes) -> float:
    samples = array("h", frame)
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


@dataclass
class SpokenLine:
    index: int
    line: CustomerLine
    frames: list[bytes] = field(default_factory=list)
    onset: int = 0  # first voiced frame
    end: int = 0  # last voiced frame


@dataclass
class Timeline:
    """Monotonic instants at the phone, for the benchmarks.

    ``speech_end``: the callee's last voiced frame of a line left the phone.
    ``bot_audio``: the first bot frame after that reached the phone.
    ``barge_in``: the first voiced frame of an interrupting line left the phone.
    ``bot_stopped``: after a barge-in, the clear_audio that stopped the bot arrived.
    ``bot_first``: the call's first bot frame reached the phone.
    """

    speech_end: list[float] = field(default_factory=list)
    bot_audio: list[float] = field(default_factory=list)
    barge_in: list[float] = field(default_factory=list)
    bot_stopped: list[float] = field(default_factory=list)
    bot_first: list[float] = field(default_factory=list)


class VoiceCallee(SimulatedCallee):
    """A simulated callee that talks through audio frames."""

    def __init__(
        self,
        scenario: Scenario,
        gateway_url: str,
        api_key: str,
        dialer_address: str,
        speech_address: str,
        echo: Echo | None = None,
        before_line: BeforeLine | None = None,
        sample_rate: int = 8000,
        speed: float = 1.0,
        transcribe_bot: bool = False,
        record: bool = False,
    ) -> None:
        super().__init__(scenario, gateway_url, api_key, dialer_address, echo, before_line)
        self._speech_address = speech_address
        self._rate = sample_rate
        self._speed = max(1.0, speed)
        self._transcribe = transcribe_bot
        self._silence = b"\x00" * frame_bytes(sample_rate)
        self._speaker: deque[bytes] = deque()  # bot frames received, played one per tick
        self._mouth: deque[bytes] = deque()  # the callee's frames still to send
        self._speaking: SpokenLine | None = None
        self._sent_in_line = 0
        self._bot_listen: GrpcListenStream | None = None
        self._bot_utterances_open = 0
        self._bot_quiet = asyncio.Event()
        self._bot_quiet.set()
        self._awaiting_bot_audio = False
        self._barging = False
        self._bot_audio_started: float | None = None
        self._listen_q: asyncio.Queue[bytes | None] | None = None
        self.timeline = Timeline()
        # record=True: (callee frame, bot frame) per tick, for a two-channel WAV of the call.
        self.recording: list[tuple[bytes, bytes]] | None = [] if record else None
        self._line_ended: tuple[int, float] | None = None  # (line index, last voiced frame)

    async def run(self, limit_sec: float = 180.0) -> SimulationResult:
        phones = PhoneClient(self._dialer, wait_for_ready=True)
        speech = SpeechClient(self._speech_address, wait_for_ready=True)
        try:
            lines = await self._synthesise(speech)
            register = PhoneRegister(
                self._scenario.phone_number,
                PhoneMode.VOICE,
                sample_rate=self._rate,
                speed=self._speed,
            )
            phone = await register_phone(phones, register)
            try:
                if self._transcribe:
                    self._listen_q = asyncio.Queue()
                    self._bot_listen = await speech.listen(
                        ListenConfig(CALLEE_CALL_ID, self._rate, "en-US")
                    )
                call, reason = await self._call(phone, lines, limit_sec)
            finally:
                if self._listen_q is not None:
                    self._listen_q.put_nowait(None)
                if self._bot_listen is not None:
                    await self._bot_listen.close()
                await phone.close()
        finally:
            await phones.close()
            await speech.close()
        return SimulationResult(
            call=call, heard=self._heard, end_reason=reason, reply_ms=self._reply_ms
        )

    async def _call(
        self, phone: GrpcPhoneStream, lines: list[SpokenLine], limit_sec: float
    ) -> tuple[dict[str, Any], str]:
        """Places the call and plays it to its end: (the stored call, the end reason)."""
        async with asyncio.timeout(limit_sec), asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._tick(phone), name="callee-ticker")]
            if self._bot_listen is not None and self._listen_q is not None:
                ear = self._ear(self._bot_listen, self._listen_q)
                tasks.append(group.create_task(ear, name="callee-ear"))
                tasks.append(group.create_task(self._hear_bot(), name="callee-hears-bot"))
            call_id = await self._place_call()
            reason = await self._converse_voice(phone, lines)
            await self._settle_bot_transcript()
            for task in tasks:
                task.cancel()
            call = await self._final_call(call_id)
        return call, reason

    # The callee's lines, synthesised before the call.

    async def _synthesise(self, speech: SpeechClient) -> list[SpokenLine]:
        lines = [SpokenLine(i, line) for i, line in enumerate(self._scenario.customer)]
        spoken = [item for item in lines if item.line.say]
        # The callee speaks the call's language (a lang object's default code).
        lang = self._scenario.payload().get("lang", "en-US")
        if isinstance(lang, dict):
            lang = lang.get("default_short_code", "en-US")
        config = SpeakConfig(CALLEE_CALL_ID, self._rate, lang=str(lang))
        texts = [item.line.say for item in spoken]
        audio = await speech.synthesise(config, texts, CALLEE_TURN)
        for item, frames in zip(spoken, audio, strict=True):
            item.onset, item.end = voiced_span(frames)
            if item.line.noise_snr_db is not None:
                frames = with_noise(frames, item.line.noise_snr_db, seed=item.index)
            if item.line.beep_ms is not None:
                beep = tone_frames(item.line.beep_hz, item.line.beep_ms, self._rate)
                # The beep follows the greeting's last word; it is the line's end.
                frames = frames[: item.end + 1] + [self._silence] * 10 + beep
                item.end = len(frames) - 1
            item.frames = frames
        return lines

    # The phone's clock: one uplink frame per tick, one bot frame played per tick.

    async def _tick(self, phone: GrpcPhoneStream) -> None:
        period = FRAME_SEC / self._speed
        loop = asyncio.get_running_loop()
        anchor = loop.time()
        n = 0
        while True:
            n += 1
            delay = anchor + n * period - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.2:
                anchor, n = loop.time(), 0  # fell far behind (a stall): do not burst
            sent = self._next_frame()
            try:
                await phone.send(AudioFrame(sent))
            except Unavailable:
                return  # the dialer ended the stream: the conversation sees it end too
            played = self._play_bot_frame()
            if self.recording is not None:
                self.recording.append((sent, played))

    def _next_frame(self) -> bytes:
        """The callee's next 20 ms (silence between lines), noting where its speech is."""
        pcm = self._mouth.popleft() if self._mouth else self._silence
        spoken = self._speaking
        if spoken is not None:
            now = time.monotonic()
            if self._sent_in_line == spoken.onset and self._barging:
                self.timeline.barge_in.append(now)
            if self._sent_in_line == spoken.end and not self._barging:
                self.timeline.speech_end.append(now)
                self._awaiting_bot_audio = True
                self._line_ended = (spoken.index, now)
            self._sent_in_line += 1
            if not self._mouth:
                self._speaking = None
        return pcm

    def _play_bot_frame(self) -> bytes:
        pcm = self._speaker.popleft() if self._speaker else self._silence
        if self._listen_q is not None:
            self._listen_q.put_nowait(pcm)
        return pcm

    # What the callee hears.

    async def _ear(self, listen: GrpcListenStream, queue: asyncio.Queue[bytes | None]) -> None:
        """Feeds the callee's ear (a Listen stream) what its speaker plays, tick by tick;
        a queue between, so a slow recogniser never holds up the phone's clock."""
        while (pcm := await queue.get()) is not None:
            await listen.send_frame(pcm)

    async def _hear_bot(self) -> None:
        assert self._bot_listen is not None
        while (event := await self._bot_listen.receive()) is not None:
            match event:
                case SpeechStarted():
                    self._bot_utterances_open += 1
                    self._bot_quiet.clear()
                case Transcript(is_final=True, text=text):
                    self._bot_utterances_open = max(0, self._bot_utterances_open - 1)
                    if text.strip():
                        self._hear("heard", text.strip())
                    if self._bot_utterances_open == 0:
                        self._bot_quiet.set()

    async def _settle_bot_transcript(self) -> None:
        if self._bot_listen is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TRANSCRIPT_WAIT_SEC):
                await self._bot_quiet.wait()

    # The call.

    async def _converse_voice(self, phone: GrpcPhoneStream, lines: list[SpokenLine]) -> str:
        pending = list(lines)
        barge_task: asyncio.Task[None] | None = None
        try:
            async for event in phone.events():
                match event:
                    case AudioFrame(pcm=pcm):
                        self._on_bot_frame(pcm)
                        if pending and pending[0].line.interrupt_after_ms is not None:
                            if barge_task is None and self._bot_audio_started is not None:
                                barge_task = asyncio.create_task(
                                    self._barge_in(pending.pop(0)), name="callee-barge-in"
                                )
                    case ClearAudio():
                        self._speaker.clear()
                        if self._barging:
                            self.timeline.bot_stopped.append(time.monotonic())
                            self._barging = False
                    case PhoneRinging(call_id=call_id):
                        await phone.send(PhoneAnswer(call_id))
                        if pending and pending[0].line.at_answer:
                            spoken = pending.pop(0)
                            self._hear("caller", spoken.line.say)
                            self._speak(spoken)
                    case BotSaid(text=text):
                        self._hear("bot", text)
                    case BotTurnDone():
                        self._bot_audio_started = None
                        if barge_task is not None and not barge_task.done():
                            continue
                        barge_task = None
                        if pending and pending[0].line.interrupt_after_ms is None:
                            await self._take_turn(phone, pending.pop(0))
                    case PhoneTransferred(target=target):
                        self._hear("system", f"transferred to {target}")
                    case PhoneCallEnded(reason=reason):
                        await self._settle_bot_transcript()
                        self._hear("system", f"call ended ({reason})")
                        return reason
            return "stream_closed"
        finally:
            if barge_task is not None:
                barge_task.cancel()

    def _on_bot_frame(self, pcm: bytes) -> None:
        now = time.monotonic()
        if not self.timeline.bot_first:
            self.timeline.bot_first.append(now)
        if self._bot_audio_started is None:
            self._bot_audio_started = now
        if self._awaiting_bot_audio:
            self.timeline.bot_audio.append(now)
            self._awaiting_bot_audio = False
            if self._line_ended is not None:
                index, ended = self._line_ended
                self._reply_ms[index] = (now - ended) * 1000
                self._line_ended = None
        self._speaker.append(pcm)

    async def _take_turn(self, phone: GrpcPhoneStream, spoken: SpokenLine) -> None:
        await asyncio.sleep(REPLY_GAP_SEC / self._speed)
        await self._settle_bot_transcript()
        if self._before_line is not None:
            await asyncio.to_thread(self._before_line, spoken.index)
        await self._act(phone, spoken)

    async def _barge_in(self, spoken: SpokenLine) -> None:
        assert spoken.line.interrupt_after_ms is not None
        await asyncio.sleep(spoken.line.interrupt_after_ms / 1000 / self._speed)
        self._barging = True
        self._hear("caller", f"(interrupting) {spoken.line.say}")
        self._speak(spoken)

    async def _act(self, phone: GrpcPhoneStream, spoken: SpokenLine) -> None:
        line = spoken.line
        if line.hangup or line.dtmf:
            await phone.send(self._uplink_for(line))
        elif line.silence:
            self._hear("caller", "(silent)")
        else:
            self._hear("caller", line.say)
            self._speak(spoken)

    def _speak(self, spoken: SpokenLine) -> None:
        self._mouth.clear()
        self._mouth.extend(spoken.frames)
        self._speaking = spoken
        self._sent_in_line = 0
