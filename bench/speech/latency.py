"""Speech latencies against a real ``python -m switchboard_speech`` process.

1. End of the silence window → final transcript (p50/p95): one Listen stream, every
   frame paced in real time as on a live call (pauses inside sentences trigger
   speculative decodes that are then dropped, as they would be).
2. TTS time to first audio for a turn's first sentence, and Piper's real-time factor.

    .venv/bin/python bench/speech/latency.py [--clips 20] [--rate 8000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from common import make_fixtures, percentile, table, write_results
from service import speech_service, stream_clips

from switchboard.v1 import speech_pb2

FIRST_SENTENCES = [
    "Hello, this is Amelie from Contoso Insurance.",
    "Good morning, I'm calling about your claim.",
    "Thank you for your patience.",
    "Could you tell me your policy number, please?",
    "I have noted your new address.",
    "Let me check that for you.",
    "What date did the accident happen?",
    "Hi, I'm Max from the IT support desk.",
    "Is this a good time to talk?",
    "Your appointment is confirmed for Friday at ten.",
    "I'm sorry to hear about the water damage.",
    "May I have your e-mail address?",
    "Great, I will send you a text message with the details.",
    "One moment, please.",
    "I understand, let me transfer you to a colleague.",
    "Can you spell your last name for me?",
    "Your reference number is C L two zero four eight.",
    "We will call you back tomorrow afternoon.",
    "Is there anything else I can help you with?",
    "Thank you for calling, goodbye.",
]


async def tts_latency(stub: Any, rate: int) -> dict[str, Any]:
    call = stub.Speak()
    await call.write(
        speech_pb2.SpeakRequest(
            config=speech_pb2.SpeakConfig(
                call_id="bench-tts", sample_rate=rate, voice="", lang="en-US", prosody_rate=1.0
            )
        )
    )
    ttfa, rtf = [], []
    for n, sentence in enumerate(FIRST_SENTENCES):
        started = time.perf_counter()
        await call.write(
            speech_pb2.SpeakRequest(
                text=speech_pb2.SpeakText(turn_id=f"t{n}", index=0, text=sentence)
            )
        )
        first = None
        frames = 0
        while True:
            response = await call.read()
            if response.WhichOneof("event") == "audio":
                frames += 1
                first = first or time.perf_counter()
            else:
                break
        assert first is not None
        ttfa.append(1000 * (first - started))
        rtf.append((time.perf_counter() - started) / (frames * 0.02))
    await call.done_writing()
    return {"ttfa_ms": ttfa, "rtf": rtf}


async def main_async(args: argparse.Namespace) -> None:
    clips = make_fixtures.ensure_clips(
        list(range(args.clips)), ("piper",), (args.rate,), ("clean",)
    )
    pcms = [clip.pcm() for clip in clips]
    async with speech_service() as stub:
        await stream_clips(stub, pcms[:1], args.rate, "warm", paced_tail_ms=1400)
        run = await stream_clips(stub, pcms, args.rate, "bench-listen", paced_tail_ms=None)
        tts = await tts_latency(stub, args.rate)
    window = [f.window_latency_ms for f in run.finals]
    after = [f.after_ended_ms for f in run.finals]
    rows = [
        [
            "window close -> final transcript (ms)",
            len(window),
            f"{percentile(window, 0.5):.0f}",
            f"{percentile(window, 0.95):.0f}",
        ],
        [
            "speech_ended -> final transcript (ms)",
            len(after),
            f"{percentile(after, 0.5):.0f}",
            f"{percentile(after, 0.95):.0f}",
        ],
        [
            "TTS first sentence -> first audio (ms)",
            len(tts["ttfa_ms"]),
            f"{percentile(tts['ttfa_ms'], 0.5):.0f}",
            f"{percentile(tts['ttfa_ms'], 0.95):.0f}",
        ],
        [
            "TTS real-time factor (Piper, over gRPC)",
            len(tts["rtf"]),
            f"{percentile(tts['rtf'], 0.5):.3f}",
            f"{percentile(tts['rtf'], 0.95):.3f}",
        ],
    ]
    print(f"rate {args.rate} Hz, {len(run.finals)}/{len(pcms)} finals")  # noqa: T201
    print(table(["measure", "n", "p50", "p95"], rows))  # noqa: T201
    out = write_results(
        f"latency_{args.rate}",
        {
            "rate": args.rate,
            "clips": len(pcms),
            "finals": len(run.finals),
            "window_to_final_ms": window,
            "ended_to_final_ms": after,
            **tts,
        },
    )
    print("results:", out)  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--rate", type=int, default=8000)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
