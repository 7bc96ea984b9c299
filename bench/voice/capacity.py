"""One dialer process, in-process fakes, no gRPC: how many concurrent voice calls its
playout keeps on time.

This is not the system's capacity (that is ``bench/cluster/capacity.py``: five
processes, gRPC, phones on a carrier's socket); it isolates the dialer's own work.
Every call is a real :class:`CallSession` with its :class:`VoicePipeline`; the
brain, the speech service and the phone line are instant in-process fakes, so
what is measured is the dialer's own per-frame work: caller frames to Listen
every 20 ms, bot frames paced to the line on their deadlines. The criterion is
playout lateness p99 ≤ 10 ms over all frames of all calls.

    .venv/bin/python bench/voice/capacity.py [--calls 50,100,200,300,400] [--seconds 8]

Prints a table and writes bench/results/voice_capacity_one_dialer.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import table, write_results

from switchboard import domain
from switchboard.config import DialerSettings, Features
from switchboard.converse import (
    AgentSentence,
    AgentTurnDone,
    ConversationStart,
    ConverseRequest,
    ConverseResponse,
)
from switchboard.features import FeatureFlags
from switchboard.media import AudioFrame
from switchboard.speech import (
    ListenConfig,
    ListenResponse,
    SpeakConfig,
    SpeakRequest,
    SpeakResponse,
    SpeakText,
    SpeechAudio,
    SpeechTextDone,
)
from switchboard_dialer.media.playout import Lateness
from switchboard_dialer.session import CallSession
from switchboard_dialer.telephony.base import CallerEvent, PhoneLine

RATE = 8000
FRAME = b"\x01\x00" * (RATE // 50)
# A long greeting keeps every call's playout busy for the whole measurement.
MONOLOGUE = " ".join(["This sentence keeps the bot talking for the benchmark."] * 40)
TARGET_P99_MS = 10.0
TITLE = "one dialer process, in-process fakes, no gRPC"


class InstantBrain:
    async def converse(self) -> InstantConverse:
        return InstantConverse()


class InstantConverse:
    def __init__(self) -> None:
        self._out: asyncio.Queue[ConverseResponse] = asyncio.Queue()

    async def send(self, request: ConverseRequest) -> None:
        if isinstance(request, ConversationStart):
            self._out.put_nowait(AgentSentence("greet", 0, MONOLOGUE))
            self._out.put_nowait(AgentTurnDone("greet"))

    async def receive(self) -> ConverseResponse | None:
        return await self._out.get()

    async def close(self) -> None:
        pass


class InstantListen:
    def __init__(self) -> None:
        self.frames = 0
        self._never: asyncio.Event = asyncio.Event()

    async def send_frame(self, pcm: bytes) -> None:
        self.frames += 1

    async def set_lang(self, lang: str) -> None:
        pass

    async def expect(self, answer: object) -> None:
        pass

    async def receive(self) -> ListenResponse | None:
        await self._never.wait()
        return None

    async def close(self) -> None:
        pass


class InstantSpeak:
    """Renders a text as one frame per 70 ms of typical speech per character / 15."""

    def __init__(self) -> None:
        self._out: asyncio.Queue[SpeakResponse] = asyncio.Queue()

    async def send(self, request: SpeakRequest) -> None:
        if isinstance(request, SpeakText):
            for _ in range(len(request.text) * 50 // 15):
                self._out.put_nowait(SpeechAudio(request.turn_id, request.index, AudioFrame(FRAME)))
            self._out.put_nowait(SpeechTextDone(request.turn_id, request.index))

    async def receive(self) -> SpeakResponse | None:
        return await self._out.get()

    async def close(self) -> None:
        pass


class InstantSpeech:
    async def listen(self, config: ListenConfig) -> InstantListen:
        return InstantListen()

    async def speak(self, config: SpeakConfig) -> InstantSpeak:
        return InstantSpeak()


class NullStore:
    async def set_call_state(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def append_messages(self, *args: Any, **kwargs: Any) -> list[domain.Message]:
        return []


class NullSms:
    async def send(self, call_id: str, to: str, text: str) -> str:
        return ""


class BenchLine(PhoneLine):
    """A carrier that takes every frame and feeds the caller's frames (silence)."""

    def __init__(self, call_id: str) -> None:
        super().__init__(call_id, RATE)
        self.played = 0
        self._inbound: deque[bytes] = deque(maxlen=50)
        self._ready = asyncio.Event()
        self._forever = asyncio.Event()

    def feed(self) -> None:
        self._inbound.append(FRAME)
        self._ready.set()

    async def read_frame(self) -> bytes | None:
        while not self._inbound:
            self._ready.clear()
            await self._ready.wait()
        return self._inbound.popleft()

    def play_frame(self, pcm: bytes) -> None:
        self.played += 1

    def clear_audio(self) -> None:
        pass

    async def next_event(self) -> CallerEvent:
        await self._forever.wait()
        raise AssertionError("unreachable")

    async def say(self, turn_id: str, text: str) -> None:
        pass

    async def turn_done(self, turn_id: str) -> None:
        pass

    async def transfer(self, target: str) -> None:
        pass

    async def hang_up(self, reason: str) -> None:
        pass


async def carrier(lines: list[BenchLine]) -> None:
    """Caller frames for every line every 20 ms, like a carrier's receive loop."""
    loop = asyncio.get_running_loop()
    anchor, n = loop.time(), 0
    while True:
        n += 1
        await asyncio.sleep(max(0.0, anchor + n * 0.02 - loop.time()))
        for line in lines:
            line.feed()


async def run_calls(count: int, seconds: float) -> dict[str, Any]:
    flags = FeatureFlags(Features())
    settings = DialerSettings()
    sessions, lines, tasks = [], [], []
    for i in range(count):
        call = domain.Call(
            call_id=f"bench-{i}",
            initiate=domain.CallRequest(
                bot_company="Bench",
                bot_name="Joe",
                phone_number="+14155550100",
                agent_phone_number="+14155550199",
                task="bench",
            ),
        )
        session = CallSession(
            call,
            InstantBrain(),
            NullStore(),
            NullSms(),
            flags,
            settings,
            speech=InstantSpeech(),  # type: ignore[arg-type]
        )
        line = BenchLine(call.call_id)
        sessions.append(session)
        lines.append(line)
    feeder = asyncio.create_task(carrier(lines), name="bench-carrier")
    for session, line in zip(sessions, lines, strict=True):
        session.prepare(RATE)
        tasks.append(asyncio.create_task(session.run(line), name=f"bench-{line.call_id}"))
    await asyncio.sleep(1.0)  # every call answered and talking
    for session in sessions:
        assert session.voice is not None
        session.voice.playout.lateness = Lateness()
    played_before = sum(line.played for line in lines)
    loop = asyncio.get_running_loop()
    started = loop.time()
    cpu_started = time.process_time()
    await asyncio.sleep(seconds)
    elapsed = loop.time() - started
    cpu = time.process_time() - cpu_started
    total = Lateness()
    for session in sessions:
        assert session.voice is not None
        total.merge(session.voice.playout.lateness)
    played = sum(line.played for line in lines) - played_before
    for session in sessions:
        session.end("bench_done")
    await asyncio.gather(*tasks, return_exceptions=True)
    feeder.cancel()
    return {
        "calls": count,
        "frames": total.frames,
        "frames_per_call_per_sec": round(played / count / elapsed, 1),
        "lateness_p50_ms": round(total.percentile_ms(50), 2),
        "lateness_p99_ms": round(total.percentile_ms(99), 2),
        "lateness_max_ms": round(total.max_sec * 1000, 2),
        "cpu_percent": round(100 * cpu / elapsed),
    }


async def main(counts: list[int], seconds: float) -> None:
    gc.freeze()
    rows = []
    for count in counts:
        rows.append(await run_calls(count, seconds))
        gc.collect()
    ok = [r["calls"] for r in rows if r["lateness_p99_ms"] <= TARGET_P99_MS]
    headers = list(rows[0])
    print(f"Playout capacity: {TITLE}\n")  # noqa: T201
    print(table(headers, [[r[h] for h in headers] for r in rows]))  # noqa: T201
    capacity = max(ok) if ok else 0
    print(  # noqa: T201
        f"\n{TITLE}: {capacity} concurrent calls with playout lateness p99 <= "
        f"{TARGET_P99_MS:g} ms (of those tried)"
    )
    path = write_results(
        "voice_capacity_one_dialer",
        {
            "measures": TITLE,
            "target_p99_ms": TARGET_P99_MS,
            "capacity": capacity,
            "runs": rows,
            "seconds": seconds,
        },
    )
    print(f"wrote {path}")  # noqa: T201


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="50,100,200,300,400")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    asyncio.run(main([int(c) for c in args.calls.split(",")], args.seconds))
