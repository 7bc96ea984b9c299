"""Turn latency at a SIP phone, real time, through the five services and real RTP (8 kHz).

The dialer runs ``dialer.telephony: sip`` with its trunk pointing at a phone on
loopback: our own SIP endpoint (``SipEndpoint``), because it lets every RTP frame be
timestamped where it leaves or arrives, not inside a softphone's jitter buffer.
``POST /call`` rings the phone, which answers, waits for the greeting to end, then
answers each question with a sentence Piper synthesised beforehand (Speech ``Speak``).

* turn latency: the callee's last voiced frame leaves the phone (its RTP packet is
  sent) → the first voiced frame of the bot's reply arrives at the phone. It includes
  the silence that ends the callee's turn (the 500 ms ``vad_silence_timeout_ms``, or
  240 ms when the answer is a complete value of the type the bot asked for), STT, the
  brain, TTS, the dialer's playout and both RTP hops.

``--answers text`` (the default) asks free-text fields: the full window always applies.
``--answers typed`` asks e-mail, phone-number and date fields and answers each with a
complete value, so the speech service may end the turn early (smart endpointing).

    .venv/bin/python bench/sip/turn_latency.py [--turns 8] [--answers text|typed]

Prints a table and writes bench/results/sip_turn_latency.json (``_typed.json``). The
machine is shared: the run's load average is recorded with the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import secrets
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "voice"))

from common import percentile, table, write_results

from switchboard.config import Features
from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_dialer.telephony.sip import InboundPolicy, SipConfig, SipEndpoint
from switchboard_dialer.telephony.sip.call import SipCall
from switchboard_testing.ports import free_rtp_range, free_udp_port
from switchboard_testing.voices import spoken_pcm

HOST = "127.0.0.1"
RATE = 8000
FRAME_BYTES = 320
# A received frame louder than this (PCM16 RMS) is bot audio; the dialer's idle frames
# are digital silence. Low, so a reply's soft onset counts from its first frame.
BOT_VOICED_RMS = 100.0
# A synthesised frame louder than this is the callee's speech (where a line starts and ends).
CALLEE_VOICED_RMS = 300.0
# The bot is done talking once nothing voiced arrived for this long (Piper's pauses
# between sentences are shorter).
BOT_QUIET_SEC = 1.5
REPLY_WAIT_SEC = 30.0
# --answers typed: (field type, description, a complete spoken answer), in turn.
TYPED = [
    ("email", "e-mail address", "It's jane dot doe at example dot com."),
    (
        "phone_number",
        "phone number to call back",
        "Four one five, five five five, oh one two three.",
    ),
    ("datetime", "when it happened", "It was yesterday at two p.m."),
]
ANSWERS = [
    "The roof was leaking after the storm.",
    "My neighbour's tree fell on the fence.",
    "The basement flooded during the night.",
    "A window broke when the wind picked up.",
    "Water came through the kitchen ceiling.",
    "The garage door was damaged by hail.",
    "Smoke from the oven stained the walls.",
    "The heater stopped working in January.",
]


def _rms(frame: bytes) -> float:
    samples = array("h", frame)
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def _voiced(pcm: bytes) -> bytes:
    """``pcm`` trimmed to its voiced span, whole frames."""
    frames = [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
    loud = [i for i, frame in enumerate(frames) if _rms(frame) > CALLEE_VOICED_RMS]
    if not loud:
        raise RuntimeError("a synthesised line has no voiced frame")
    frames[-1] = frames[-1].ljust(FRAME_BYTES, b"\0")
    return b"".join(frames[loud[0] : loud[-1] + 1])


async def synthesise(speech_address: str, texts: list[str]) -> list[bytes]:
    """Each text as 8 kHz PCM16 from the Speech service (Piper), trimmed to its speech."""
    audio = await spoken_pcm(speech_address, texts, RATE, call_id="bench-callee")
    return [_voiced(pcm) for pcm in audio]


@dataclass
class Ear:
    """Timestamps of the bot's voiced frames as they arrive at the phone."""

    voiced_at: list[float] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def listen(self, call: SipCall) -> None:
        loop = asyncio.get_running_loop()
        async for frame in call.audio_in():
            if _rms(frame) > BOT_VOICED_RMS:
                self.voiced_at.append(loop.time())
                self.changed.set()

    def first_after(self, moment: float) -> float | None:
        return next((t for t in self.voiced_at if t > moment), None)

    async def wait_voice_after(self, moment: float, within_sec: float) -> float:
        async with asyncio.timeout(within_sec):
            while (found := self.first_after(moment)) is None:
                self.changed.clear()
                await self.changed.wait()
        return found

    async def wait_quiet(self, within_sec: float) -> None:
        """Until the bot has been silent for ``BOT_QUIET_SEC``."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(within_sec):
            while True:
                last = self.voiced_at[-1] if self.voiced_at else 0.0
                quiet_for = loop.time() - last
                if quiet_for >= BOT_QUIET_SEC:
                    return
                await asyncio.sleep(BOT_QUIET_SEC - quiet_for + 0.01)


async def say(call: SipCall, pcm: bytes) -> float:
    """Queues ``pcm`` on the phone's RTP sender; returns when its last frame was sent.

    The sender pops a frame and sends it in the same tick, so the queue running empty
    marks the last voiced packet leaving (polled every 2 ms).
    """
    loop = asyncio.get_running_loop()
    call.send_audio(pcm)
    while call.rtp.queued_audio_sec > 0:  # noqa: ASYNC110 - the sender has no drain event
        await asyncio.sleep(0.002)
    return loop.time()


def claim_and_answers(turns: int, typed: bool) -> tuple[list[dict[str, str]], list[str]]:
    """The claim to ask (one more field than answered: no recap inside the measure) and
    the callee's answers."""
    if not typed:
        claim = [
            {"name": f"detail_{i}", "type": "text", "description": f"detail number {i}"}
            for i in range(turns + 1)
        ]
        return claim, [ANSWERS[i % len(ANSWERS)] for i in range(turns)]
    fields = [TYPED[i % len(TYPED)] for i in range(turns + 1)]
    claim = [
        {"name": f"{kind}_{i}", "type": kind, "description": description}
        for i, (kind, description, _answer) in enumerate(fields)
    ]
    return claim, [answer for _kind, _description, answer in fields[:turns]]


async def run_call(
    cluster: Cluster, phone: SipEndpoint, number: str, turns: int, typed: bool
) -> list[float]:
    claim, texts = claim_and_answers(turns, typed)
    lines = await synthesise(cluster.ports.grpc_address("speech"), texts)
    request = {
        "bot_company": "Contoso Insurance",
        "bot_name": "Joe",
        "phone_number": number,
        "agent_phone_number": "+14155550199",
        "task": "Help the customer file a claim for the damage to their home.",
        "claim": claim,
    }
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    async with httpx.AsyncClient(base_url=cluster.gateway_url, headers=headers) as api:
        placed = await api.post("/call", json=request, timeout=10)
        placed.raise_for_status()
    incoming = await asyncio.wait_for(phone.inbound.get(), 15)
    incoming.ring()
    await incoming.answer()
    ear = Ear()
    listening = asyncio.create_task(ear.listen(incoming), name="bench-phone-ear")
    latencies: list[float] = []
    try:
        await ear.wait_voice_after(0.0, REPLY_WAIT_SEC)  # the greeting
        await ear.wait_quiet(REPLY_WAIT_SEC)
        for i, pcm in enumerate(lines):
            speech_end = await say(incoming, pcm)
            bot_audio = await ear.wait_voice_after(speech_end, REPLY_WAIT_SEC)
            latencies.append(1000 * (bot_audio - speech_end))
            print(f"turn {i + 1}: {latencies[-1]:.0f} ms", file=sys.stderr)  # noqa: T201
            await ear.wait_quiet(REPLY_WAIT_SEC)
    finally:
        await incoming.hang_up()
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
    return latencies


async def measure(
    cluster: Cluster, phone_port: int, number: str, turns: int, typed: bool
) -> list[float]:
    low, high = free_rtp_range(20)
    # The phone takes calls from the dialer on loopback only (by default nobody may call in).
    phone = SipEndpoint(
        SipConfig(
            bind_host=HOST,
            bind_port=phone_port,
            rtp_ports=(low, high),
            inbound=InboundPolicy(sources=(HOST,)),
        )
    )
    await phone.start()
    try:
        return await run_call(cluster, phone, number, turns, typed)
    finally:
        await phone.close()


def dialer_answer_ms(log_path: Path) -> list[float]:
    """The ``answer_ms`` the dialer logs per turn, for comparison with the phone's view."""
    found: list[float] = []
    for line in log_path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and "answer_ms" in record:
                found.append(float(record["answer_ms"]))
    return found


def main(turns: int, answers: str) -> None:
    phone_port = free_udp_port()
    rtp_low, rtp_high = free_rtp_range(20)
    number = f"+1415555{secrets.randbelow(9000) + 1000}"
    load_before = os.getloadavg()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as root:
        cluster = Cluster(
            ports=ClusterPorts.free(),
            api_key=secrets.token_urlsafe(16),
            data_dir=Path(root) / "data",
            log_dir=Path(root) / "logs",
            env={
                "SWITCHBOARD_CONFIG": str(Path(root) / "none.yaml"),
                "SWITCHBOARD__DIALER__TELEPHONY": "sip",
                "SWITCHBOARD__DIALER__SIP__HOST": HOST,
                "SWITCHBOARD__DIALER__SIP__PORT": str(phone_port),
                "SWITCHBOARD__DIALER__SIP__BIND_HOST": HOST,
                "SWITCHBOARD__DIALER__SIP__BIND_PORT": str(free_udp_port()),
                "SWITCHBOARD__DIALER__SIP__RTP_PORT_MIN": str(rtp_low),
                "SWITCHBOARD__DIALER__SIP__RTP_PORT_MAX": str(rtp_high),
                "SWITCHBOARD__FEATURES__PHONE_SILENCE_TIMEOUT_SEC": "120",
            },
        )
        cluster.start()
        try:
            latencies = asyncio.run(measure(cluster, phone_port, number, turns, answers == "typed"))
        finally:
            cluster.stop()
        dialer_ms = dialer_answer_ms(Path(root) / "logs" / "dialer.log")
    load_after = os.getloadavg()
    flags = Features()
    rows = [
        [
            f"turn latency (end of speech → first bot audio), SIP phone, {answers} answers",
            len(latencies),
            f"{percentile(latencies, 50):.0f}",
            f"{percentile(latencies, 95):.0f}",
            f"{min(latencies):.0f}" if latencies else "-",
            f"{max(latencies):.0f}" if latencies else "-",
            "p50 <= 800",
        ],
        [
            "the dialer's own answer_ms (its end of speech → first frame played)",
            len(dialer_ms),
            f"{percentile(dialer_ms, 50):.0f}",
            f"{percentile(dialer_ms, 95):.0f}",
            f"{min(dialer_ms):.0f}" if dialer_ms else "-",
            f"{max(dialer_ms):.0f}" if dialer_ms else "-",
            "",
        ],
    ]
    print(  # noqa: T201
        table(["measure", "n", "p50 ms", "p95 ms", "min ms", "max ms", "target"], rows)
    )
    print(  # noqa: T201
        f"vad_silence_timeout_ms {flags.vad_silence_timeout_ms}; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; "
        f"{time.monotonic() - started:.0f} s in all"
    )
    path = write_results(
        "sip_turn_latency" if answers == "text" else f"sip_turn_latency_{answers}",
        {
            "phone": "own SipEndpoint over loopback RTP (PCMU)",
            "answers": answers,
            "sample_rate": RATE,
            "vad_silence_timeout_ms": flags.vad_silence_timeout_ms,
            "load_average_1m": {"before": load_before[0], "after": load_after[0]},
            "turn_ms": latencies,
            "dialer_answer_ms": dialer_ms,
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
        },
    )
    print(f"wrote {path}")  # noqa: T201


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--answers", choices=["text", "typed"], default="text")
    args = parser.parse_args()
    main(args.turns, args.answers)
